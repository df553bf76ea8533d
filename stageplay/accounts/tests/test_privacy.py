"""GDPR: the export holds everything about the user; erasure removes it and redacts."""

import json

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model

from performances import audience, performers, services
from performances.models import ChatMessage, Line, Reaction, RoleClaim, Scene
from stageplay.accounts import privacy
from stageplay.accounts.models import Consent, ErasureRecord, Role
from stageplay.accounts.services import account_signup, consent_give

pytestmark = pytest.mark.django_db
PASSWORD = "stage-door-9981"


def relations_to_user():
    """Yield 'app.Model.field' for every relation from a model to the user model."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (
                field.is_relation
                and field.concrete
                and field.related_model is user_model
                and model is not user_model
            ):
                yield f"{model._meta.app_label}.{model.__name__}.{field.name}"


def test_every_relation_to_the_user_is_exported_and_erased():
    missing = sorted(set(relations_to_user()) - set(privacy.PERSONAL_DATA))
    assert missing == [], f"add these to PERSONAL_DATA: {missing}"
    for key, entry in privacy.PERSONAL_DATA.items():
        assert callable(entry.export) and callable(entry.erase), key


@pytest.fixture
def performer(cast):
    user = account_signup(
        username="hana",
        email="hana@example.com",
        password=PASSWORD,
        display_name="Hana",
        role=Role.PERFORMER,
    )
    consent_give(user=user, purpose=Consent.Purpose.PERFORMING)
    consent_give(user=user, purpose=Consent.Purpose.CHAT)
    return user


@pytest.fixture
def show(cast, performer):
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    performance = services.performance_create(scene=scene, created_by=performer)
    services.performance_start(performance=performance)
    services.line_append(performance=performance, character=cast["kenzaki"], text="Go.")
    performers.role_claim(
        performance=performance, user=performer, character=cast["hajime"]
    )
    performers.turn_await(performance=performance, character=cast["hajime"], seconds=30)
    performers.human_line_speak(
        performance=performance, user=performer, text="I saw two of them at the gate."
    )
    services.line_append(
        performance=performance, character=cast["tachibana"], text="Then we split."
    )
    audience.reaction_add(performance=performance, kind="applause", user=performer)
    audience.chat_post(performance=performance, user=performer, text="What a scene!")
    return performance


def test_export_holds_everything_about_the_user(client, performer, show):
    client.force_login(performer)
    response = client.get("/account/data/?download=1")
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    data = document["data"]
    assert document["account"]["username"] == "hana"
    assert data["accounts.Profile.user"][0]["display_name"] == "Hana"
    assert {c["purpose"] for c in data["accounts.Consent.user"]} == {
        "performing",
        "chat",
    }
    assert (
        data["performances.Line.performer"][0]["text"]
        == "I saw two of them at the gate."
    )
    assert data["performances.ChatMessage.user"][0]["text"] == "What a scene!"
    assert data["performances.Reaction.user"][0]["kind"] == "applause"
    assert data["performances.RoleClaim.user"][0]["character__slug"] == "hajime"
    assert set(data) == set(privacy.PERSONAL_DATA)
    assert PASSWORD not in response.content.decode()


def test_erasure_removes_the_user_and_redacts_their_lines_in_place(
    client, performer, show
):
    client.force_login(performer)
    before = list(show.lines.values_list("index", flat=True))
    response = client.post("/account/data/erase/", {"password": PASSWORD})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="hana").exists()
    assert list(show.lines.values_list("index", flat=True)) == before
    human = Line.objects.get(performance=show, author="human")
    assert human.text == privacy.REDACTED and human.performer is None
    assert Line.objects.get(performance=show, index=2).text == "Then we split."
    assert not ChatMessage.objects.exists() and not RoleClaim.objects.exists()
    assert Reaction.objects.get().user is None
    record = ErasureRecord.objects.get()
    assert record.counts["performances.Line.performer"] == 1
    assert "hana" not in json.dumps(record.counts)


def test_wrong_password_erases_nothing(client, performer, show):
    client.force_login(performer)
    response = client.post("/account/data/erase/", {"password": "wrong"})
    assert response.status_code == 400
    assert "not correct" in response.content.decode()
    assert get_user_model().objects.filter(username="hana").exists()
    assert ChatMessage.objects.count() == 1 and not ErasureRecord.objects.exists()


def test_data_page_requires_sign_in(client):
    response = client.get("/account/data/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]


def test_purge_expired_deletes_only_chat_past_retention(performer, show, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    settings.STAGEPLAY = {**settings.STAGEPLAY, "CHAT_RETENTION_DAYS": 7}
    old = ChatMessage.objects.get()
    ChatMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    fresh = audience.chat_post(performance=show, user=performer, text="Still here!")
    call_command("purge_expired", verbosity=0)
    assert list(ChatMessage.objects.values_list("pk", flat=True)) == [fresh.pk]
