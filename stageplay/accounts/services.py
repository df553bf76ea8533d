"""Writes on accounts: signing up, profiles, roles and consent."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from stageplay.accounts.models import Consent, Profile, Role

CONSENT_VERSIONS = {
    Consent.Purpose.PERFORMING: "2026-11",
    Consent.Purpose.CHAT: "2026-11",
}
CONSENT_TEXTS = {
    Consent.Purpose.PERFORMING: (
        "Lines you speak as a performer become part of the performance's transcript, "
        "shown to its audience and kept with the performance. You can have them "
        "redacted by deleting your account."
    ),
    Consent.Purpose.CHAT: (
        "Chat messages are shown to everyone watching the performance and kept for "
        "a limited time, after which they are deleted."
    ),
}


def account_signup(
    *, username: str, email: str, password: str, display_name: str = "", role: str
) -> object:
    """Create a user with a profile, or raise ValidationError naming what is wrong."""
    User = get_user_model()
    user = User(username=username, email=email)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    profile = Profile(display_name=display_name, role=role)
    profile.full_clean(exclude=["user"])
    with transaction.atomic():
        user.set_password(password)
        user.save()
        profile.user = user
        profile.save()
    return user


def profile_for(*, user) -> Profile:
    """Return `user`'s profile, creating an audience profile on first use."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def profile_update(*, user, display_name: str, role: str) -> Profile:
    """Change `user`'s display name and role."""
    profile = profile_for(user=user)
    profile.display_name = display_name
    profile.role = role
    profile.full_clean()
    profile.save()
    return profile


def user_may_perform(*, user) -> bool:
    """Return whether `user` may claim roles: performers and staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_staff or profile_for(user=user).role == Role.PERFORMER


def consent_given(*, user, purpose: str) -> bool:
    """Return whether `user` agreed to the current text for `purpose`."""
    return Consent.objects.filter(
        user=user, purpose=purpose, text_version=CONSENT_VERSIONS[purpose]
    ).exists()


def consent_give(*, user, purpose: str) -> Consent:
    """Record `user`'s consent to the current text for `purpose` (once)."""
    if purpose not in CONSENT_VERSIONS:
        raise ValidationError(
            f"Unknown purpose {purpose!r}; choose one of: {', '.join(CONSENT_VERSIONS)}."
        )
    consent, _ = Consent.objects.get_or_create(
        user=user, purpose=purpose, text_version=CONSENT_VERSIONS[purpose]
    )
    return consent


def consent_require(*, user, purpose: str) -> None:
    """Raise PermissionDenied telling the user to consent first, unless they have."""
    if not consent_given(user=user, purpose=purpose):
        raise PermissionDenied(
            f"Please agree to how we use your data first: {CONSENT_TEXTS[purpose]}"
        )
