"""What the endpoints do: validation, transitions, transcripts, exports, council."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from agents.models import Character
from performances import services
from performances.selectors import line_frame
from stageplay.api.tests.conftest import SCRIPTED, stage

pytestmark = pytest.mark.django_db
TASK = "How to improve internal communication efficiency in the company?"


@pytest.fixture
def show(scene, cast, staff_user):
    """Return a running performance with five committed lines."""
    performance = stage(scene, "running", created_by=staff_user)
    for n, slug in enumerate(["kenzaki", "tachibana", "hajime", "mutsuki", "kenzaki"]):
        services.line_append(
            performance=performance,
            character=cast[slug],
            text=f"Line {n} from {slug}.",
            direction="looks up" if n == 1 else "",
        )
    return performance


def test_lines_after_since_come_a_page_at_a_time(clients, show):
    client = clients["anonymous"]
    page = client.get(f"/api/performances/{show.pk}/lines/?since=1&page_size=2").json()
    assert page["count"] == 3
    assert [line["index"] for line in page["results"]] == [2, 3]
    rest = client.get(page["next"]).json()
    assert [line["index"] for line in rest["results"]] == [4] and rest["next"] is None
    everything = client.get(f"/api/performances/{show.pk}/lines/").json()
    assert everything["count"] == 5


def test_lines_are_the_same_as_the_websocket_frames(clients, show):
    response = clients["audience"].get(f"/api/performances/{show.pk}/lines/?since=0")
    first = response.json()["results"][0]
    assert first == json.loads(json.dumps(line_frame(show.lines.get(index=1))))
    assert first["direction"] == "looks up" and first["character"] == "tachibana"


@pytest.mark.parametrize("since", ["-2", "soon", "1.5"])
def test_a_bad_since_is_a_field_error(clients, show, since):
    response = clients["anonymous"].get(
        f"/api/performances/{show.pk}/lines/?since={since}"
    )
    assert response.status_code == 400
    assert "since" in response.json()


def test_an_illegal_transition_is_409_with_the_services_message(clients, show):
    staff = clients["staff"]
    response = staff.post(f"/api/performances/{show.pk}/start/")
    assert response.status_code == 409
    assert "is running and cannot become running" in response.json()["detail"]
    assert staff.post(f"/api/performances/{show.pk}/stop/").status_code == 200
    response = staff.post(f"/api/performances/{show.pk}/resume/")
    assert response.status_code == 409
    assert "nothing (it has ended)" in response.json()["detail"]


def test_staging_a_scene_without_cast_or_unknown_is_a_field_error(clients, cast):
    from performances.models import Scene

    Scene.objects.create(slug="empty-stage", title="Empty stage")
    client = clients["performer"]
    empty = client.post("/api/performances/", {"scene": "empty-stage"}, format="json")
    assert empty.status_code == 400
    assert "has no cast" in empty.json()["scene"][0]
    unknown = client.post("/api/performances/", {"scene": "nowhere"}, format="json")
    assert unknown.status_code == 400 and "scene" in unknown.json()


def test_staging_records_who_staged_it_and_the_options(clients, performer_user, scene):
    response = clients["api_key"].post(
        "/api/performances/",
        {"scene": scene.slug, "strategy": "round_robin", "turn_limit": 6},
        format="json",
    )
    data = response.json()
    assert (data["status"], data["strategy"], data["turn_limit"]) == (
        "scheduled",
        "round_robin",
        6,
    )
    assert performer_user.performances_created.get().pk == data["id"]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"aliases": ["hirose"]}, "aliases", "must differ from the slug"),
        ({"colour": "red"}, "colour", "#rrggbb"),
        ({"risk_tolerance": 1.5}, "risk_tolerance", "less than or equal to 1"),
        ({"emotional_baseline": "smug"}, "emotional_baseline", "not a valid choice"),
        ({"slug": "kenzaki"}, "slug", "already exists"),
        ({"relationships": ["kenzaki"]}, "relationships", "Expected a dictionary"),
    ],
)
def test_character_writes_answer_field_errors(clients, cast, change, field, message):
    body = {"slug": "hirose", "name": "Hirose", **change}
    response = clients["staff"].post("/api/characters/", body, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json()[field])
    assert not Character.objects.filter(name="Hirose").exists()


def test_staff_add_and_change_characters_through_the_service(clients, cast):
    staff = clients["staff"]
    created = staff.post(
        "/api/characters/",
        {"slug": "hirose", "name": "Hirose", "aliases": ["HIRO"], "is_active": False},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["aliases"] == ["hiro"]  # normalised by Character.clean
    changed = staff.patch(
        "/api/characters/kenzaki/", {"risk_tolerance": 0.9}, format="json"
    )
    assert changed.json()["risk_tolerance"] == 0.9
    assert Character.objects.get(slug="kenzaki").risk_tolerance == 0.9
    assert staff.delete("/api/characters/kenzaki/").status_code == 405


def test_scenes_list_their_cast_in_billing_order(clients, scene):
    data = clients["anonymous"].get(f"/api/scenes/{scene.slug}/").json()
    assert [c["character"] for c in data["cast"]] == list(
        scene.roles.values_list("character__slug", flat=True)
    )


def test_reactions_are_validated_and_closed_after_the_curtain(clients, show):
    url = f"/api/performances/{show.pk}/reactions/"
    client = clients["audience"]
    made = client.post(url, {"reaction": "gasp"}, format="json")
    assert made.status_code == 201
    assert made.json()["line_index"] == 4 and made.json()["reaction"] == "gasp"
    wrong = client.post(url, {"reaction": "throw tomatoes"}, format="json")
    assert wrong.status_code == 400 and "reaction" in wrong.json()
    services.performance_finish(performance=show)
    closed = client.post(url, {"reaction": "applause"}, format="json")
    assert closed.status_code == 400
    assert "curtain is down" in json.dumps(closed.json())


def test_exports_are_attachments_in_each_format(clients, show):
    base = f"/api/performances/{show.pk}/export"
    client = clients["anonymous"]
    srt = client.get(f"{base}/srt/")
    assert srt["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert srt["Content-Disposition"] == (
        f'attachment; filename="performance-{show.pk}.srt"'
    )
    assert "Sakuya Tachibana: Line 1 from tachibana." in srt.content.decode()
    vtt = client.get(f"{base}/vtt/")
    assert vtt["Content-Type"] == "text/vtt; charset=utf-8"
    assert vtt.content.decode().startswith("WEBVTT")
    assert "<v Hajime Aikawa>Line 2 from hajime.</v>" in vtt.content.decode()
    fountain = client.get(f"{base}/fountain/").content.decode()
    assert fountain.startswith(f"Title: {show.scene.title}")
    assert "SAKUYA TACHIBANA\n(calm; looks up)\nLine 1 from tachibana." in fountain
    document = client.get(f"{base}/json/").json()
    assert document["scene"] == show.scene.slug
    assert [line["index"] for line in document["lines"]] == [0, 1, 2, 3, 4]


def test_export_errors_are_json_whatever_the_client_accepts(clients):
    response = clients["anonymous"].get(
        "/api/performances/999/export/vtt/", HTTP_ACCEPT="text/vtt"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_the_council_answers_from_each_agent_and_synthesises(clients, cast):
    response = clients["audience"].post("/api/council/", {"task": TASK}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["task"] == TASK
    assert [a["agent"] for a in data["answers"]] == [
        "kazuki",
        "tachibana",
        "aikawa",
        "mutsuki",
    ]
    assert data["answers"][0]["text"] == (
        "We start a daily stand-up tomorrow and keep it short."
    )
    assert data["answers"][0]["emotion"] == "determination"
    assert data["synthesis"].startswith(f"Final solution for: {TASK}")
    assert "Kazuma Kenzaki" in data["synthesis"]


def test_the_council_asks_only_the_agents_named(clients, cast):
    response = clients["performer"].post(
        "/api/council/",
        {"task": TASK, "agents": ["mutsuki", "tachibana"]},
        format="json",
    )
    assert [a["agent"] for a in response.json()["answers"]] == ["mutsuki", "tachibana"]


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"task": ""}, "task", "may not be blank"),
        ({"task": "x" * 2001}, "task", "no more than 2000"),
        ({"task": TASK, "agents": ["hirose"]}, "detail", "Unknown agent 'hirose'"),
        ({"task": TASK, "agents": []}, "agents", "at least 1"),
    ],
)
def test_the_council_rejects_bad_requests_with_a_message(
    clients, cast, body, field, message
):
    response = clients["audience"].post("/api/council/", body, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json()[field])


def test_a_model_that_cannot_answer_is_503_without_its_details(clients, cast, settings):
    settings.STAGEPLAY = {
        **settings.STAGEPLAY,
        "BACKEND_OPTIONS": {SCRIPTED: {"outputs": ["   "]}},
    }
    response = clients["audience"].post("/api/council/", {"task": TASK}, format="json")
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "try again" in detail and "attempts" not in detail


def test_session_writes_need_the_csrf_token(performer_user, scene):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(performer_user)
    response = client.post("/api/performances/", {"scene": scene.slug}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_root_lists_the_collections_and_docs(clients):
    links = clients["anonymous"].get("/api/").json()
    assert links["council"].endswith("/api/council/")
    assert links["docs"].endswith("/api/docs/")
