"""The council in the browser: pose a problem, hear each agent, then the synthesis."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from agents.backends import BackendError
from agents.council import (
    BladeAgentError,
    CouncilAnswer,
    council_answer,
    council_member,
    council_members,
    council_synthesise,
    task_clean,
)
from agents.minds import MindError
from agents.prompting import PromptBudgetError

logger = logging.getLogger(__name__)

SESSION_KEY = "council"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}  # as in DRF's rate strings
UNAVAILABLE = (
    "The council's model is not available on this server right now; please try "
    "again later (the administrators can see why in the server log)."
)


@require_GET
@ensure_csrf_cookie
def council_page(request: HttpRequest):
    """Show the council's agents and the form that poses a problem."""
    members = council_members()
    return render(request, "agents/council.html", {"members": members.items()})


def _task_from(request: HttpRequest) -> str:
    """Return the task in the JSON body, or raise BladeAgentError saying what is wrong."""
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BladeAgentError(
            'Send a JSON object such as {"task": "How to ...?"}.'
        ) from None
    if not isinstance(body, dict):
        raise BladeAgentError('Send a JSON object such as {"task": "How to ...?"}.')
    return task_clean(body.get("task"))


def _error(exc: Exception) -> JsonResponse:
    """Return the JSON error for `exc`: what to do, never a traceback."""
    if isinstance(exc, BladeAgentError):
        return JsonResponse({"error": str(exc)}, status=400)
    if isinstance(exc, BackendError | MindError | PromptBudgetError):
        logger.error("Council model failure: %s", exc)
        return JsonResponse({"error": UNAVAILABLE}, status=503)
    logger.exception("Council failure")
    return JsonResponse(
        {"error": "The council could not answer because of an error on the server."},
        status=500,
    )


def _refusal(request: HttpRequest) -> JsonResponse | None:
    """Return why this client may not run the model now, or None when it may.

    Each answer runs the model, so only signed-in users may ask, within the same
    `council` rate as the REST API's council endpoint.
    """
    if not request.user.is_authenticated:
        return JsonResponse(
            {"error": "Sign in to pose a problem to the council."}, status=401
        )
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["council"]
    count, unit = rate.split("/")
    allowed, period = int(count), PERIODS[unit[0]]
    key = f"council-page:{request.user.pk}"
    cache.add(key, 0, timeout=period)
    if cache.incr(key) > allowed:
        return JsonResponse(
            {"error": f"The council hears at most {rate} per person; try again later."},
            status=429,
        )
    return None


@require_POST
def council_agent_answer(request: HttpRequest, agent: str):
    """Return one agent's answer to the posted task, as JSON, and remember it."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    try:
        task = _task_from(request)
        name, character = council_member(name=agent)
        answer = council_answer(character=character, task=task, agent=name)
    except Exception as exc:  # every failure becomes a JSON error, never a traceback
        return _error(exc)
    state = request.session.get(SESSION_KEY) or {}
    if state.get("task") != task:
        state = {"task": task, "answers": {}}
    state["answers"][name] = answer.as_dict()
    request.session[SESSION_KEY] = state
    return JsonResponse(_public(answer))


@require_POST
def council_synthesis(request: HttpRequest):
    """Return the synthesis of the answers this session got for the posted task."""
    try:
        task = _task_from(request)
        state = request.session.get(SESSION_KEY) or {}
        given = state.get("answers", {}) if state.get("task") == task else {}
        answers = [CouncilAnswer(**answer) for answer in given.values()]
        solution = council_synthesise(task=task, answers=answers)
    except Exception as exc:  # every failure becomes a JSON error, never a traceback
        return _error(exc)
    return JsonResponse({"solution": solution, "agents": list(given)})


def _public(answer: CouncilAnswer) -> dict:
    """Return the parts of an answer the page shows."""
    keys = ("agent", "name", "function", "text", "emotion", "direction")
    return {key: getattr(answer, key) for key in keys}
