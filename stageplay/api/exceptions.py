"""Turn errors raised by services into API answers with a clear message."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from agents.backends import BackendError
from agents.council import BladeAgentError
from agents.minds import MindError
from performances.services import TransitionError

logger = logging.getLogger(__name__)


class Conflict(APIException):
    """The request is valid, but the resource's state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class ModelUnavailable(APIException):
    """The language model could not answer."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "The stage model could not answer just now; try again in a minute. "
        "If it keeps failing, ask the site's staff to check the model backend."
    )
    default_code = "model_unavailable"


def exception_handler(exc: Exception, context: dict):
    """Map service errors to DRF errors, then answer as DRF does.

    A forbidden status change is 409 with the service's message; other Django
    validation errors are 400 with field errors; council errors are 400; a model
    that cannot answer is 503 (its details go to the log, not the client).
    """
    if isinstance(exc, TransitionError):
        exc = Conflict(" ".join(exc.messages))
    elif isinstance(exc, DjangoValidationError):
        exc = ValidationError(as_serializer_error(exc))
    elif isinstance(exc, BladeAgentError):
        exc = ValidationError({"detail": str(exc)})
    elif isinstance(exc, BackendError | MindError):
        logger.warning("model backend failed: %s", exc)
        exc = ModelUnavailable()
    return drf_exception_handler(exc, context)
