"""API keys that act as their user; only a hash of each key is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey


class UserAPIKey(AbstractAPIKey):
    """A user's API key: requests sent with it act as the user, with their role.

    The key itself is shown once, when it is created; the database keeps its
    prefix (to find it) and a SHA-512 hash (to check it).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def usable(self) -> bool:
        """Return whether requests may still use this key."""
        return not self.revoked and not self.has_expired
