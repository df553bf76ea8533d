"""Every endpoint for every role: anonymous, audience, performer, staff and API key.

The API key belongs to a performer, so it must get exactly what a performer gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from performances.models import Reaction
from stageplay.api.tests.conftest import stage

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "audience", "performer", "staff", "api_key")
READ = dict.fromkeys(ROLES, 200)
STAFF_ONLY = {
    "anonymous": 401,
    "audience": 403,
    "performer": 403,
    "staff": 200,
    "api_key": 403,
}
SIGNED_IN = {"anonymous": 401, **dict.fromkeys(ROLES[1:], 200)}
NEW_CHARACTER = {"slug": "hirose", "name": "Hirose Shiori", "colour": "#336699"}


@dataclass
class Endpoint:
    """A request to make and the status each role should get."""

    name: str
    method: str
    url: str  # may hold {id}: the performance staged for the request
    expected: dict[str, int]
    body: dict = field(default_factory=dict)
    status: str = "scheduled"  # where the staff-staged performance starts


ENDPOINTS = [
    Endpoint("root", "get", "/api/", READ),
    Endpoint("character list", "get", "/api/characters/", READ),
    Endpoint("character", "get", "/api/characters/kenzaki/", READ),
    Endpoint(
        "character create",
        "post",
        "/api/characters/",
        {**STAFF_ONLY, "staff": 201},
        body=NEW_CHARACTER,
    ),
    Endpoint(
        "character update",
        "patch",
        "/api/characters/kenzaki/",
        STAFF_ONLY,
        body={"risk_tolerance": 0.9},
    ),
    Endpoint("scene list", "get", "/api/scenes/", READ),
    Endpoint("scene", "get", "/api/scenes/jacaranda-after-the-fight/", READ),
    Endpoint("performance list", "get", "/api/performances/", READ),
    Endpoint("performance", "get", "/api/performances/{id}/", READ),
    Endpoint(
        "performance create",
        "post",
        "/api/performances/",
        {"anonymous": 401, "audience": 403, **dict.fromkeys(ROLES[2:], 201)},
        body={"scene": "jacaranda-after-the-fight"},
    ),
    Endpoint("start", "post", "/api/performances/{id}/start/", STAFF_ONLY),
    Endpoint(
        "pause", "post", "/api/performances/{id}/pause/", STAFF_ONLY, status="running"
    ),
    Endpoint(
        "resume", "post", "/api/performances/{id}/resume/", STAFF_ONLY, status="paused"
    ),
    Endpoint(
        "stop", "post", "/api/performances/{id}/stop/", STAFF_ONLY, status="running"
    ),
    Endpoint("lines", "get", "/api/performances/{id}/lines/?since=-1", READ),
    *(
        Endpoint(
            f"export {fmt}", "get", f"/api/performances/{{id}}/export/{fmt}/", READ
        )
        for fmt in ("json", "srt", "vtt", "fountain")
    ),
    Endpoint(
        "reaction",
        "post",
        "/api/performances/{id}/reactions/",
        {**SIGNED_IN, **dict.fromkeys(ROLES[1:], 201)},
        body={"reaction": "applause"},
        status="running",
    ),
    Endpoint(
        "council",
        "post",
        "/api/council/",
        SIGNED_IN,
        body={"task": "How do we stop losing requests?", "agents": ["kazuki"]},
    ),
    Endpoint("schema", "get", "/api/schema/", READ),
    Endpoint("docs", "get", "/api/docs/", READ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_each_role_gets_the_expected_status(endpoint, role, clients, scene, staff_user):
    performance = stage(scene, endpoint.status, created_by=staff_user)
    url = endpoint.url.format(id=performance.pk)
    response = getattr(clients[role], endpoint.method)(
        url, endpoint.body, format="json"
    )
    assert response.status_code == endpoint.expected[role], response.content[:300]
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Api-Key")
    if response.status_code in (401, 403):
        assert response.json()["detail"]


def test_a_performer_controls_the_performances_they_staged(clients, scene):
    created = clients["api_key"].post(
        "/api/performances/", {"scene": scene.slug}, format="json"
    )
    pk = created.json()["id"]
    for client, action, status in (
        (clients["api_key"], "start", "running"),
        (clients["performer"], "pause", "paused"),
        (clients["api_key"], "resume", "running"),
        (clients["performer"], "stop", "finished"),
    ):
        response = client.post(f"/api/performances/{pk}/{action}/")
        assert response.status_code == 200
        assert response.json()["status"] == status
    assert clients["audience"].post(f"/api/performances/{pk}/start/").status_code == 403


def test_private_performances_show_only_to_their_stager_and_staff(
    clients, scene, performer_user
):
    private = stage(scene, created_by=performer_user, is_public=False)
    url = f"/api/performances/{private.pk}/"
    expected = {
        "anonymous": 404,
        "audience": 404,
        "performer": 200,
        "staff": 200,
        "api_key": 200,
    }
    for role, status in expected.items():
        assert clients[role].get(url).status_code == status, role
        listed = [
            p["id"] for p in clients[role].get("/api/performances/").json()["results"]
        ]
        assert (private.pk in listed) == (status == 200), role
        export = clients[role].get(f"{url}export/srt/")
        assert export.status_code == status, role


def test_reactions_through_a_key_are_the_users(clients, scene, performer_user):
    show = stage(scene, "running")
    clients["api_key"].post(
        f"/api/performances/{show.pk}/reactions/", {"reaction": "laugh"}, format="json"
    )
    assert Reaction.objects.get().user == performer_user


def test_inactive_characters_show_only_to_staff(clients, cast):
    cast["sayoko"].is_active = False
    cast["sayoko"].save()
    for role in ROLES:
        slugs = [
            c["slug"]
            for c in clients[role]
            .get("/api/characters/?page_size=50")
            .json()["results"]
        ]
        assert ("sayoko" in slugs) == (role == "staff"), role
