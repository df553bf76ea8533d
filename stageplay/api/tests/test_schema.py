"""The OpenAPI schema: valid, and the API keeps to it under generated requests."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from performances import services
from stageplay.api.keys import api_key_create
from stageplay.api.tests.conftest import stage

GENEROUS = "100000/minute"
EXAMPLES = 12  # per operation; about 20 operations, well under a minute in all


@pytest.fixture
def staff_key(staff_user) -> str:
    """Return an API key of a staff member, who may call every operation."""
    return api_key_create(user=staff_user, name="schemathesis")[1]


@pytest.fixture
def show(scene, cast, staff_user):
    """Return a running performance with two lines, for operations taking an id."""
    performance = stage(scene, "running", created_by=staff_user)
    for slug in ("kenzaki", "hajime"):
        services.line_append(performance=performance, character=cast[slug], text="Go.")
    return performance


@pytest.fixture
def wsgi_app(db):
    """Return the WSGI app, kept from closing the test's database connection.

    Django closes old connections at the end of each request, which would end the
    test's transaction; its own test client disconnects that handler the same way.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, cast, settings):
    """Return the schema served at /api/schema/, read through the WSGI app."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            ("anon", "user", "api_key", "council"), GENEROUS
        ),
    }
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _fixed_path(operation, show) -> dict:
    """Return path parameters naming objects that exist, so requests get past 404."""
    fixed = {}
    for parameter in operation.path_parameters:
        if parameter.name == "id":
            fixed["id"] = show.pk
        elif parameter.name == "slug":
            scenes = operation.path.startswith("/api/scenes/")
            fixed["slug"] = "jacaranda-after-the-fight" if scenes else "kenzaki"
    return fixed


@pytest.mark.slow
def test_the_api_keeps_to_its_schema(api_schema, staff_key, show):
    headers = {"Authorization": f"Api-Key {staff_key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(
                mode, path_parameters=_fixed_path(operation, show)
            )

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def keeps_to_schema(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                keeps_to_schema()
            except Unsatisfiable:
                # No invalid request exists (e.g. only optional integer queries).
                assert mode is GenerationMode.NEGATIVE, operation.label


def test_the_schema_is_valid_openapi_3_with_api_key_security(client):
    document = client.get("/api/schema/?format=json").json()
    validate_schema(document)  # raises on anything that is not OpenAPI 3
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "'Api-Key <key>': create a key on your account page.",
    }
    paths = set(document["paths"])
    assert {
        "/api/characters/",
        "/api/scenes/",
        "/api/performances/",
        "/api/performances/{id}/start/",
        "/api/performances/{id}/lines/",
        "/api/performances/{id}/reactions/",
        "/api/performances/{id}/export/vtt/",
        "/api/council/",
    } <= paths
