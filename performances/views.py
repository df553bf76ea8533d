"""Pages of the stage: the playbill, the stage viewer and its controls."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agents.models import Character
from performances import performers, services
from performances.forms import ClaimForm, ControlForm, StagingForm
from performances.models import Performance
from performances.selectors import (
    cast_list,
    performance_list,
    performance_visible,
    scene_list,
    transcript_get,
)
from stageplay.accounts.models import Consent
from stageplay.accounts.services import (
    CONSENT_TEXTS,
    consent_give,
    consent_given,
    user_may_perform,
)

Status = Performance.Status
CONTROLS = {
    "start": services.performance_start,
    "pause": services.performance_pause,
    "resume": services.performance_resume,
    "stop": services.performance_finish,
}


def playbill(request):
    """Show the cast, the scenes, and what is live, scheduled and finished."""
    context = {
        "cast": cast_list(),
        "scenes": scene_list(),
        "live": performance_list(statuses=[Status.RUNNING, Status.PAUSED]),
        "scheduled": performance_list(statuses=[Status.SCHEDULED]),
        "finished": performance_list(statuses=[Status.FINISHED], limit=10),
        "staging_form": StagingForm() if request.user.is_staff else None,
    }
    return render(request, "performances/playbill.html", context)


def _visible_performance(request, pk: int) -> Performance:
    """Return the performance `pk` if the user may see it, else 404."""
    performance = get_object_or_404(Performance.objects.select_related("scene"), pk=pk)
    if not performance_visible(performance=performance, user=request.user):
        raise Http404("No such performance.")
    return performance


def performance_detail(request, pk: int):
    """Show the stage viewer, live or as a replay of the stored transcript."""
    performance = _visible_performance(request, pk)
    context = {
        "performance": performance,
        "roles": performance.scene.roles.select_related("character"),
        "lines": transcript_get(performance=performance),
        "control_actions": list(CONTROLS),
        "may_perform": user_may_perform(user=request.user),
        "performing_consent": CONSENT_TEXTS[Consent.Purpose.PERFORMING],
        "chat_consent": CONSENT_TEXTS[Consent.Purpose.CHAT],
        "needs_chat_consent": request.user.is_authenticated
        and not consent_given(user=request.user, purpose=Consent.Purpose.CHAT),
        "needs_performing_consent": request.user.is_authenticated
        and not consent_given(user=request.user, purpose=Consent.Purpose.PERFORMING),
    }
    return render(request, "performances/detail.html", context)


@require_POST
@staff_member_required
def performance_new(request):
    """Stage a scene as a new performance, started at once unless asked otherwise."""
    form = StagingForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Could not stage the scene: {form.errors.as_text()}")
        return redirect("performances:playbill")
    data = form.cleaned_data
    performance = services.performance_create(
        scene=data["scene"],
        created_by=request.user,
        strategy=data["strategy"],
        turn_limit=data["turn_limit"],
    )
    if data["start"]:
        services.performance_start(performance=performance)
    return redirect(performance)


@require_POST
@staff_member_required
def performance_control(request, pk: int):
    """Start, pause, resume or stop a performance."""
    performance = _visible_performance(request, pk)
    form = ControlForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose start, pause, resume or stop.")
        return redirect(performance)
    try:
        CONTROLS[form.cleaned_data["action"]](performance=performance)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(performance)


@require_POST
@login_required
def role_claim(request, pk: int):
    """Let the signed-in user play a character in this performance."""
    performance = _visible_performance(request, pk)
    form = ClaimForm(request.POST)
    character = None
    if form.is_valid():
        character = Character.objects.filter(
            slug=form.cleaned_data["character"]
        ).first()
    if character is None:
        messages.error(request, "Choose a character of this scene to play.")
        return redirect(performance)
    if form.cleaned_data.get("consent"):
        consent_give(user=request.user, purpose=Consent.Purpose.PERFORMING)
    try:
        performers.role_claim(
            performance=performance, user=request.user, character=character
        )
        messages.success(request, f"You play {character.name}. Wait for your cue.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect(performance)


@require_POST
@login_required
def role_release(request, pk: int):
    """Hand the user's role back to its agent."""
    performance = _visible_performance(request, pk)
    performers.role_release(performance=performance, user=request.user)
    messages.info(request, "Your role is back with its agent.")
    return redirect(performance)
