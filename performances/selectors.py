"""Reads on the stage: the playbill, scenes and transcripts."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from agents.models import Character
from performances.models import Line, Performance, Scene, SceneRole


def cast_list() -> QuerySet[Character]:
    """Return the active cast in billing order."""
    return Character.objects.filter(is_active=True)


def scene_list() -> QuerySet[Scene]:
    """Return the scenes written to be performed, with their cast, in title order."""
    roles = SceneRole.objects.select_related("character")
    return (
        Scene.objects.filter(source=Scene.Source.WRITTEN)
        .prefetch_related(Prefetch("roles", queryset=roles))
        .annotate(performance_count=Count("performances"))
    )


def performance_list(*, statuses: list[str], limit: int = 20) -> QuerySet[Performance]:
    """Return public performances in the given statuses, newest first."""
    return (
        Performance.objects.filter(status__in=statuses, is_public=True)
        .select_related("scene")
        .order_by("-created_at")[:limit]
    )


def transcript_get(*, performance: Performance, since: int = -1) -> QuerySet[Line]:
    """Return the committed lines of `performance` after index `since`, in order."""
    return performance.lines.filter(index__gt=since).select_related("character")


def performance_visible(*, performance: Performance, user) -> bool:
    """Return whether `user` may watch `performance`."""
    if performance.is_public:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_staff or performance.created_by_id == user.pk


def line_frame(line: Line) -> dict:
    """Return a committed line as it appears in frames and exports."""
    return {
        "index": line.index,
        "speaker": line.speaker_name,
        "character": line.character.slug if line.character else None,
        "kind": line.kind,
        "text": line.text,
        "emotion": line.emotion,
        "direction": line.direction,
        "author": line.author,
        "understudy": line.understudy,
        "created": line.created_at.isoformat(),
    }


def performance_snapshot(*, performance_id: int, user=None) -> dict | None:
    """Return the `snapshot` frame a viewer gets on connect, or None if not visible."""
    from performances.audience import audience_report

    performance = (
        Performance.objects.select_related("scene", "awaiting_character")
        .filter(pk=performance_id)
        .first()
    )
    if performance is None or not performance_visible(
        performance=performance, user=user
    ):
        return None
    claims = {
        c.character_id: c.user_id
        for c in performance.claims.filter(released_at__isnull=True)
    }
    user_id = getattr(user, "pk", None)
    cast = [
        {
            "character": role.character.slug,
            "name": role.character.name,
            "rider": role.character.rider_name,
            "colour": role.character.colour,
            "emblem": role.character.emblem,
            "initials": role.character.initials,
            "on_stage": role.on_stage,
            "human": role.character_id in claims,
            "yours": user_id is not None and claims.get(role.character_id) == user_id,
        }
        for role in performance.scene.roles.select_related("character")
    ]
    awaiting = None
    if performance.awaiting_character:
        awaiting = {
            "type": "turn.awaiting",
            "speaker": performance.awaiting_character.name,
            "character": performance.awaiting_character.slug,
            "deadline": performance.awaiting_deadline.isoformat()
            if performance.awaiting_deadline
            else None,
        }
    report = audience_report(performance=performance)
    scene = performance.scene
    return {
        "type": "snapshot",
        "performance": {
            "id": performance.pk,
            "status": performance.status,
            "title": scene.title,
            "location": scene.location,
            "time": scene.time,
            "synopsis": scene.synopsis,
            "turn_limit": performance.effective_turn_limit,
        },
        "cast": cast,
        "lines": [line_frame(line) for line in transcript_get(performance=performance)],
        "audience": report.as_event(),
        "awaiting": awaiting,
    }
