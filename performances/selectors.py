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
