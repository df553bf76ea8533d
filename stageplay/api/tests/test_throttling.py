"""Rate limits per API key, per user, per anonymous address and for the council."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from stageplay.api.keys import api_key_create
from stageplay.api.tests.conftest import key_client

pytestmark = pytest.mark.django_db
GENEROUS = "1000/minute"


@pytest.fixture
def rates(settings):
    """Return a function that sets the throttle rates for this test."""

    def set_rates(**rates: str) -> None:
        defaults = dict.fromkeys(("anon", "user", "api_key", "council"), GENEROUS)
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**defaults, **rates},
        }

    return set_rates


def _statuses(client: APIClient, times: int, url: str = "/api/characters/") -> list:
    return [client.get(url).status_code for _ in range(times)]


def test_each_key_has_its_own_limit(rates, performer_user, cast):
    rates(api_key="3/minute")
    first = key_client(api_key_create(user=performer_user, name="one")[1])
    second = key_client(api_key_create(user=performer_user, name="two")[1])
    assert _statuses(first, 4) == [200, 200, 200, 429]
    assert _statuses(second, 1) == [200]
    refused = first.get("/api/characters/")
    assert "throttled" in refused.json()["detail"].lower()
    assert int(refused["Retry-After"]) > 0


def test_a_user_is_limited_across_session_and_keys(rates, performer_user, cast):
    rates(user="3/minute")
    session = APIClient()
    session.force_login(performer_user)
    by_key = key_client(api_key_create(user=performer_user, name="one")[1])
    assert _statuses(session, 2) + _statuses(by_key, 2) == [200, 200, 200, 429]


def test_anonymous_clients_are_limited_by_address(rates, cast, audience_user):
    rates(anon="2/minute")
    here = APIClient(REMOTE_ADDR="203.0.113.5")
    there = APIClient(REMOTE_ADDR="198.51.100.7")
    assert _statuses(here, 3) == [200, 200, 429]
    assert _statuses(there, 1) == [200]
    signed_in = APIClient(REMOTE_ADDR="203.0.113.5")
    signed_in.force_login(audience_user)
    assert _statuses(signed_in, 1) == [200]


def test_the_council_has_a_tighter_limit_of_its_own(rates, audience_user, cast):
    rates(council="1/hour")
    client = APIClient()
    client.force_login(audience_user)
    body = {"task": "Where do we meet?", "agents": ["kazuki"]}
    assert client.post("/api/council/", body, format="json").status_code == 200
    assert client.post("/api/council/", body, format="json").status_code == 429
    assert client.get("/api/characters/").status_code == 200


def test_a_forged_forwarded_for_header_does_not_dodge_the_limit(rates, cast):
    rates(anon="2/minute")
    client = APIClient(REMOTE_ADDR="203.0.113.5")
    statuses = [
        client.get("/api/characters/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(rates, cast, settings):
    rates(anon="1/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")
    first = proxy.get("/api/characters/", HTTP_X_FORWARDED_FOR="203.0.113.5")
    second = proxy.get("/api/characters/", HTTP_X_FORWARDED_FOR="198.51.100.7")
    again = proxy.get("/api/characters/", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]
