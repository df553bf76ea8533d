"""API keys: create (the key is returned once), list, revoke, and check a presented key."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from stageplay.api.models import UserAPIKey
from stageplay.conf import stage_settings

USE_STAMP_INTERVAL = timedelta(minutes=5)  # how often last_used_at is written


class KeyRefused(Exception):
    """A presented API key that does not authenticate; the message says why."""


def api_key_list(*, user) -> QuerySet[UserAPIKey]:
    """Return `user`'s API keys, newest first."""
    return UserAPIKey.objects.filter(user=user).order_by("-created")


def api_key_create(
    *, user, name: str, expires_at: datetime | None = None
) -> tuple[UserAPIKey, str]:
    """Create an API key for `user` and return it with the key, shown only now."""
    limit = stage_settings.API_KEYS_PER_USER
    if api_key_list(user=user).filter(revoked=False).count() >= limit:
        raise ValidationError(
            f"You already hold {limit} API keys; revoke one you no longer use first."
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expiry_date": "Choose an expiry date in the future."})
    api_key = UserAPIKey(user=user, name=(name or "").strip(), expiry_date=expires_at)
    api_key.full_clean(exclude=["id", "prefix", "hashed_key"])
    key = UserAPIKey.objects.assign_key(api_key)
    api_key.save()
    return api_key, key


def api_key_revoke(*, user, prefix: str) -> UserAPIKey:
    """Revoke `user`'s key with `prefix`; it stops working at once, for good."""
    api_key = UserAPIKey.objects.filter(user=user, prefix=prefix).first()
    if api_key is None:
        raise ValidationError(f"You have no API key starting {prefix!r}.")
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key


def api_key_check(*, key: str) -> UserAPIKey:
    """Return the usable key matching `key`, or raise KeyRefused saying why not.

    Revocation and expiry are only reported to someone who holds the secret.
    """
    prefix, dot, _ = key.partition(".")
    api_key = (
        UserAPIKey.objects.select_related("user").filter(prefix=prefix).first()
        if dot and prefix
        else None
    )
    if api_key is None or not api_key.is_valid(key):
        raise KeyRefused(
            "The API key is not valid. Check that you copied all of it, or create "
            "a new one on your account page."
        )
    if api_key.revoked:
        raise KeyRefused("This API key was revoked; create a new one.")
    if api_key.has_expired:
        raise KeyRefused(
            f"This API key expired on {api_key.expiry_date:%Y-%m-%d %H:%M} UTC; "
            "create a new one."
        )
    if not api_key.user.is_active:
        raise KeyRefused("The account this API key belongs to is disabled.")
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > USE_STAMP_INTERVAL:
        UserAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
