"""The user's own data: export it (GDPR Art. 15 and 20) and erase it (Art. 17)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from performances.models import ChatMessage, Line, Performance, Reaction, RoleClaim
from stageplay.accounts.models import Consent, ErasureRecord, Profile
from stageplay.api.models import UserAPIKey

REDACTED = "[removed at the performer's request]"


@dataclass
class PersonalData:
    """How one relation to the user is exported and erased."""

    export: Callable[[Any], Any]  # user -> JSON-ready data
    erase: Callable[[Any], int]  # user -> rows erased or redacted


def _rows(queryset, *fields: str) -> list[dict]:
    """Return `fields` of every row, with datetimes as ISO strings."""
    rows = []
    for row in queryset.values(*fields):
        rows.append(
            {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
        )
    return rows


def _export_account(user) -> dict:
    return {
        "username": user.get_username(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "is_staff": user.is_staff,
    }


def _redact_lines(user) -> int:
    return Line.objects.filter(performer=user).update(text=REDACTED, performer=None)


def _delete(queryset) -> int:
    return queryset.delete()[0]


# Every relation from a model to the user model must appear here; a test walks the
# models and fails when one is missing, so new personal data cannot be forgotten.
PERSONAL_DATA: dict[str, PersonalData] = {
    "accounts.Profile.user": PersonalData(
        export=lambda u: _rows(
            Profile.objects.filter(user=u), "display_name", "role", "created_at"
        ),
        erase=lambda u: _delete(Profile.objects.filter(user=u)),
    ),
    "accounts.Consent.user": PersonalData(
        export=lambda u: _rows(
            Consent.objects.filter(user=u), "purpose", "text_version", "given_at"
        ),
        erase=lambda u: _delete(Consent.objects.filter(user=u)),
    ),
    "performances.Line.performer": PersonalData(
        export=lambda u: _rows(
            Line.objects.filter(performer=u),
            "performance_id",
            "index",
            "speaker_name",
            "text",
            "emotion",
            "created_at",
        ),
        erase=_redact_lines,
    ),
    "performances.ChatMessage.user": PersonalData(
        export=lambda u: _rows(
            ChatMessage.objects.filter(user=u), "performance_id", "text", "created_at"
        ),
        erase=lambda u: _delete(ChatMessage.objects.filter(user=u)),
    ),
    "performances.Reaction.user": PersonalData(
        export=lambda u: _rows(
            Reaction.objects.filter(user=u), "performance_id", "kind", "created_at"
        ),
        # The audience's counts stay; only the link to the person goes.
        erase=lambda u: Reaction.objects.filter(user=u).update(user=None),
    ),
    "performances.RoleClaim.user": PersonalData(
        export=lambda u: _rows(
            RoleClaim.objects.filter(user=u),
            "performance_id",
            "character__slug",
            "created_at",
            "released_at",
        ),
        erase=lambda u: _delete(RoleClaim.objects.filter(user=u)),
    ),
    "performances.Performance.created_by": PersonalData(
        export=lambda u: _rows(
            Performance.objects.filter(created_by=u), "id", "scene__slug", "created_at"
        ),
        erase=lambda u: Performance.objects.filter(created_by=u).update(
            created_by=None
        ),
    ),
    "api.UserAPIKey.user": PersonalData(
        # The key's description only: its hash never leaves the database.
        export=lambda u: _rows(
            UserAPIKey.objects.filter(user=u),
            "name",
            "prefix",
            "created",
            "expiry_date",
            "revoked",
            "last_used_at",
        ),
        erase=lambda u: _delete(UserAPIKey.objects.filter(user=u)),
    ),
    "admin.LogEntry.user": PersonalData(
        export=lambda u: _rows(
            LogEntry.objects.filter(user=u),
            "action_time",
            "content_type__model",
            "object_repr",
            "action_flag",
        ),
        erase=lambda u: _delete(LogEntry.objects.filter(user=u)),
    ),
}


def personal_data_register(key: str, entry: PersonalData) -> None:
    """Add how another app's relation to the user is exported and erased."""
    PERSONAL_DATA[key] = entry


def account_export(*, user) -> dict:
    """Return everything StagePlay holds about `user`, as one JSON-ready document."""
    return {
        "format": "stageplay-personal-data/1",
        "exported_at": timezone.now().isoformat(),
        "account": _export_account(user),
        "data": {
            key: entry.export(user) for key, entry in sorted(PERSONAL_DATA.items())
        },
    }


def account_erase(*, user, password: str) -> ErasureRecord:
    """Erase `user` after checking `password`; redact their lines, keep an audit record."""
    if authenticate(username=user.get_username(), password=password) is None:
        raise PermissionDenied("The password is not correct; nothing was deleted.")
    with transaction.atomic():
        counts = {
            key: entry.erase(user) for key, entry in sorted(PERSONAL_DATA.items())
        }
        user.delete()
        counts["account"] = 1
        return ErasureRecord.objects.create(counts=counts)


def chat_purge_expired(*, now=None) -> int:
    """Delete chat messages older than the retention setting; return how many."""
    from datetime import timedelta

    from stageplay.conf import stage_settings

    now = now or timezone.now()
    cutoff = now - timedelta(days=stage_settings.CHAT_RETENTION_DAYS)
    return ChatMessage.objects.filter(created_at__lt=cutoff).delete()[0]
