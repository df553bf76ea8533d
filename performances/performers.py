"""Human performers: claiming roles, the stage waiting for them, and their lines."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from agents.models import Character
from performances.events import send_on_commit
from performances.models import Line, Performance, RoleClaim
from performances.services import line_append

Status = Performance.Status
MAX_LINE_CHARS = 500
LINE_RATE_SECONDS = 2.0
OPEN_STATUSES = (Status.SCHEDULED, Status.RUNNING, Status.PAUSED)


def role_claim(*, performance: Performance, user, character: Character) -> RoleClaim:
    """Let `user` play `character` in `performance`, or say why not."""
    from stageplay.accounts.models import Consent
    from stageplay.accounts.services import consent_require, user_may_perform

    if not user_may_perform(user=user):
        raise PermissionDenied(
            "Only performers can join a scene; choose the performer role on your "
            "account page."
        )
    consent_require(user=user, purpose=Consent.Purpose.PERFORMING)
    if performance.status not in OPEN_STATUSES:
        raise ValidationError(
            f"This performance is {performance.status}; roles can only be claimed "
            "before or during a performance."
        )
    if not performance.scene.roles.filter(character=character).exists():
        cast = ", ".join(
            performance.scene.roles.values_list("character__slug", flat=True)
        )
        raise ValidationError(
            f"{character.name} is not in this scene; choose one of: {cast}."
        )
    with transaction.atomic():
        active = RoleClaim.objects.select_for_update().filter(
            performance=performance, released_at__isnull=True
        )
        taken = active.filter(character=character).first()
        if taken and taken.user_id != user.pk:
            raise ValidationError(f"{character.name} is already played by someone.")
        if taken:
            return taken
        mine = active.filter(user=user).first()
        if mine:
            raise ValidationError(
                f"You already play {mine.character.name}; release it first."
            )
        claim = RoleClaim.objects.create(
            performance=performance, character=character, user=user
        )
    return claim


def role_release(*, performance: Performance, user) -> None:
    """End `user`'s active claim, handing the role back to its agent."""
    RoleClaim.objects.filter(
        performance=performance, user=user, released_at__isnull=True
    ).update(released_at=timezone.now())


def role_player(*, performance: Performance, character: Character):
    """Return the user playing `character` in `performance`, or None for an agent."""
    claim = (
        RoleClaim.objects.filter(
            performance=performance, character=character, released_at__isnull=True
        )
        .select_related("user")
        .first()
    )
    return claim.user if claim else None


def turn_await(*, performance: Performance, character: Character, seconds: float):
    """Mark the stage as waiting for `character`'s human performer until a deadline."""
    deadline = timezone.now() + timedelta(seconds=seconds)
    with transaction.atomic():
        Performance.objects.filter(pk=performance.pk).update(
            awaiting_character=character, awaiting_deadline=deadline
        )
        send_on_commit(
            performance.pk,
            {
                "type": "turn.awaiting",
                "speaker": character.name,
                "character": character.slug,
                "deadline": deadline.isoformat(),
                "seconds": seconds,
            },
        )
    return deadline


def turn_expire(*, performance: Performance, character: Character) -> bool:
    """Stop waiting for `character`; False if the human's line arrived first."""
    return bool(
        Performance.objects.filter(
            pk=performance.pk, awaiting_character=character
        ).update(awaiting_character=None, awaiting_deadline=None)
    )


def clean_human_text(text: str) -> str:
    """Return `text` fit for the stage, or raise ValidationError saying why not."""
    if not isinstance(text, str):
        raise ValidationError("A line must be text.")
    if any(
        unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in text
    ):
        raise ValidationError(
            "The line contains control or invisible formatting characters."
        )
    text = " ".join(text.split())
    if not text:
        raise ValidationError("The line is empty; say something.")
    if len(text) > MAX_LINE_CHARS:
        raise ValidationError(
            f"The line is {len(text)} characters long; the limit is {MAX_LINE_CHARS}."
        )
    return text


def human_line_speak(*, performance: Performance, user, text: str) -> Line:
    """Commit `user`'s line for the character the stage is waiting for."""
    text = clean_human_text(text)
    rate_key = f"stage:speak:{user.pk}"
    if not cache.add(rate_key, 1, timeout=LINE_RATE_SECONDS):
        raise ValidationError("You are speaking too fast; wait a moment.")
    with transaction.atomic():
        current = Performance.objects.select_for_update().get(pk=performance.pk)
        claim = RoleClaim.objects.filter(
            performance=current, user=user, released_at__isnull=True
        ).first()
        if claim is None:
            raise PermissionDenied("Claim a role before speaking.")
        if current.awaiting_character_id != claim.character_id:
            raise ValidationError(f"It is not {claim.character.name}'s turn yet.")
        Performance.objects.filter(pk=current.pk).update(
            awaiting_character=None, awaiting_deadline=None
        )
        from agents.emotion import emotion_recognise

        return line_append(
            performance=current,
            character=claim.character,
            text=text,
            emotion=emotion_recognise(text),
            author=Line.Author.HUMAN,
            performer=user,
        )
