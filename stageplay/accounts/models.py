"""Profiles with roles, recorded consents, and the audit trail of erasures."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    """What a signed-in user may do beyond watching."""

    AUDIENCE = "audience", "Audience (watch, react, chat)"
    PERFORMER = "performer", "Performer (may also join scenes as a character)"


class Profile(models.Model):
    """A user's public name and role on the stage."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=60, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AUDIENCE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class Consent(models.Model):
    """A user's consent to a use of their data, with the text version they agreed to."""

    class Purpose(models.TextChoices):
        PERFORMING = (
            "performing",
            "Lines I speak as a performer are kept in transcripts",
        )
        CHAT = "chat", "My chat messages are shown to the audience and kept for a time"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    text_version = models.CharField(max_length=20)
    given_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["given_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "purpose", "text_version"], name="one_consent_per_text"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} consented to {self.purpose} ({self.text_version})"


class ErasureRecord(models.Model):
    """An audit record of an account erasure, holding no personal data."""

    erased_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(
        default=dict, help_text="Rows erased or redacted, by kind."
    )

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure at {self.erased_at:%Y-%m-%d %H:%M}"
