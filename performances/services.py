"""Writes on the stage: performances and their status, and the lines they commit."""

from __future__ import annotations

import random

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agents.models import Character
from performances.events import send_on_commit
from performances.models import Line, LineKind, Performance, Scene

Status = Performance.Status

TRANSITIONS: dict[str, set[str]] = {
    Status.SCHEDULED: {Status.RUNNING, Status.FAILED},
    Status.RUNNING: {Status.PAUSED, Status.FINISHED, Status.FAILED},
    Status.PAUSED: {Status.RUNNING, Status.FINISHED, Status.FAILED},
    Status.FINISHED: set(),
    Status.FAILED: set(),
}


class TransitionError(ValidationError):
    """A status change the performance's life cycle does not allow."""


def performance_create(
    *,
    scene: Scene,
    created_by=None,
    strategy: str = Performance.Strategy.NATURAL,
    backend: str = "",
    model_name: str = "",
    seed: int | None = None,
    turn_limit: int | None = None,
    is_public: bool = True,
) -> Performance:
    """Schedule a new performance of `scene`."""
    if not scene.roles.exists():
        raise ValidationError(
            {"scene": f"Scene {scene.slug!r} has no cast; add characters to it first."}
        )
    performance = Performance(
        scene=scene,
        created_by=created_by,
        strategy=strategy,
        backend=backend,
        model_name=model_name,
        seed=random.randrange(2**31) if seed is None else seed,
        turn_limit=turn_limit,
        is_public=is_public,
    )
    performance.full_clean()
    performance.save()
    return performance


def performance_transition(
    *, performance: Performance, to: str, reason: str = ""
) -> Performance:
    """Move `performance` to `to`, or raise TransitionError saying what is allowed."""
    if to not in TRANSITIONS:
        raise TransitionError(
            f"Unknown status {to!r}; choose one of {', '.join(TRANSITIONS)}."
        )
    with transaction.atomic():
        current = Performance.objects.select_for_update().get(pk=performance.pk)
        allowed = TRANSITIONS[current.status]
        if to not in allowed:
            options = ", ".join(sorted(allowed)) or "nothing (it has ended)"
            raise TransitionError(
                f"Performance {current.pk} is {current.status} and cannot become "
                f"{to}; from {current.status} it can become: {options}."
            )
        now = timezone.now()
        current.status = to
        if to == Status.RUNNING and current.started_at is None:
            current.started_at = now
        if to in (Status.FINISHED, Status.FAILED):
            current.finished_at = now
            current.failure_reason = reason if to == Status.FAILED else ""
        current.save(
            update_fields=[
                "status",
                "started_at",
                "finished_at",
                "failure_reason",
                "updated_at",
            ]
        )
        send_on_commit(current.pk, {"type": "status", "status": to})
    performance.refresh_from_db()
    return performance


def performance_start(*, performance: Performance) -> Performance:
    """Raise the curtain on a scheduled performance."""
    return performance_transition(performance=performance, to=Status.RUNNING)


def performance_pause(*, performance: Performance) -> Performance:
    """Pause a running performance after its current line."""
    return performance_transition(performance=performance, to=Status.PAUSED)


def performance_resume(*, performance: Performance) -> Performance:
    """Resume a paused performance."""
    return performance_transition(performance=performance, to=Status.RUNNING)


def performance_finish(*, performance: Performance) -> Performance:
    """Bring down the curtain on a running or paused performance."""
    return performance_transition(performance=performance, to=Status.FINISHED)


def performance_fail(*, performance: Performance, reason: str) -> Performance:
    """Mark a performance failed, keeping the reason for its viewers and admins."""
    return performance_transition(
        performance=performance, to=Status.FAILED, reason=reason
    )


def line_append(
    *,
    performance: Performance,
    text: str,
    character: Character | None = None,
    speaker_name: str = "",
    kind: str = LineKind.DIALOGUE,
    emotion: str = "calm",
    direction: str = "",
    author: str = Line.Author.AGENT,
    performer=None,
    understudy: bool = False,
    tokens: int = 0,
    latency_ms: int = 0,
) -> Line:
    """Commit the next line of `performance` and announce it once committed."""
    with transaction.atomic():
        last = performance.lines.aggregate(last=Max("index"))["last"]
        line = Line(
            performance=performance,
            index=0 if last is None else last + 1,
            character=character,
            speaker_name=speaker_name or (character.name if character else "Narrator"),
            kind=kind,
            text=text,
            emotion=emotion,
            direction=direction,
            author=author,
            performer=performer,
            understudy=understudy,
            tokens=tokens,
            latency_ms=latency_ms,
        )
        line.full_clean(validate_constraints=False)
        line.save()
        send_on_commit(performance.pk, line_event(line))
    return line


def line_event(line: Line) -> dict:
    """Return the `line.end` event announcing a committed line."""
    return {
        "type": "line.end",
        "index": line.index,
        "speaker": line.speaker_name,
        "character": line.character.slug if line.character else None,
        "text": line.text,
        "emotion": line.emotion,
        "direction": line.direction,
        "kind": line.kind,
        "author": line.author,
        "understudy": line.understudy,
    }
