"""Pages of the stage: the playbill and a performance's page."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from performances.models import Performance
from performances.selectors import (
    cast_list,
    performance_list,
    scene_list,
    transcript_get,
)

Status = Performance.Status


def playbill(request):
    """Show the cast, the scenes, and what is live, scheduled and finished."""
    context = {
        "cast": cast_list(),
        "scenes": scene_list(),
        "live": performance_list(statuses=[Status.RUNNING, Status.PAUSED]),
        "scheduled": performance_list(statuses=[Status.SCHEDULED]),
        "finished": performance_list(statuses=[Status.FINISHED], limit=10),
    }
    return render(request, "performances/playbill.html", context)


def performance_detail(request, pk: int):
    """Show one performance and its transcript."""
    performance = get_object_or_404(Performance.objects.select_related("scene"), pk=pk)
    if not performance.is_public and performance.created_by != request.user:
        if not request.user.is_staff:
            raise Http404("No such performance.")
    context = {
        "performance": performance,
        "lines": transcript_get(performance=performance),
    }
    return render(request, "performances/detail.html", context)
