"""The account page's form for creating an API key."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

EXPIRY_CHOICES = [
    ("30", "in 30 days"),
    ("90", "in 90 days"),
    ("365", "in a year"),
    ("never", "never (revoke it yourself)"),
]


class APIKeyForm(forms.Form):
    """A name for the key and when it expires."""

    name = forms.CharField(
        max_length=50, help_text="What the key is for, e.g. 'subtitle script'."
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90")

    def expires_at(self) -> datetime | None:
        """Return the chosen expiry time, or None for a key that never expires."""
        choice = self.cleaned_data["expires"]
        if choice == "never":
            return None
        return timezone.now() + timedelta(days=int(choice))
