"""Signing up, the account page, roles and consent."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from performances import audience, performers, services
from performances.models import Scene
from stageplay.accounts.models import Consent, Role
from stageplay.accounts.services import account_signup, consent_give

pytestmark = pytest.mark.django_db


def test_signup_creates_a_profile_and_signs_in(client):
    response = client.post(
        "/account/signup/",
        {
            "username": "kei",
            "email": "kei@example.com",
            "password1": "blue-rose-4471",
            "password2": "blue-rose-4471",
            "display_name": "Kei",
            "role": "performer",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="kei")
    assert user.profile.role == Role.PERFORMER and user.profile.display_name == "Kei"
    assert client.get("/account/").status_code == 200


def test_signup_rejects_a_weak_password(client):
    response = client.post(
        "/account/signup/",
        {"username": "kei", "password1": "123", "password2": "123", "role": "audience"},
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not get_user_model().objects.filter(username="kei").exists()


def test_account_page_changes_display_name(client, django_user_model):
    user = django_user_model.objects.create_user("mio", password="x-strong-pass-1")
    client.force_login(user)
    client.post("/account/", {"display_name": "Mio", "role": "audience"})
    user.refresh_from_db()
    assert user.profile.display_name == "Mio"


@pytest.fixture
def performance(cast):
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    performance = services.performance_create(scene=scene)
    services.performance_start(performance=performance)
    return performance


def test_audience_members_cannot_claim_roles(performance, cast):
    user = account_signup(
        username="a", email="", password="x-strong-pass-1", role=Role.AUDIENCE
    )
    consent_give(user=user, purpose=Consent.Purpose.PERFORMING)
    with pytest.raises(PermissionDenied, match="performer role"):
        performers.role_claim(
            performance=performance, user=user, character=cast["hajime"]
        )


def test_joining_a_scene_asks_for_consent_once(client, performance, cast):
    user = account_signup(
        username="p", email="", password="x-strong-pass-1", role=Role.PERFORMER
    )
    with pytest.raises(PermissionDenied, match="agree"):
        performers.role_claim(
            performance=performance, user=user, character=cast["hajime"]
        )
    client.force_login(user)
    url = f"/performances/{performance.pk}/claim/"
    client.post(url, {"character": "hajime", "consent": "1"})
    consent = Consent.objects.get(user=user, purpose="performing")
    assert consent.text_version and consent.given_at
    assert performance.claims.get().character == cast["hajime"]


def test_chatting_asks_for_consent(performance):
    user = account_signup(
        username="c", email="", password="x-strong-pass-1", role=Role.AUDIENCE
    )
    with pytest.raises(PermissionDenied, match="agree"):
        audience.chat_post(performance=performance, user=user, text="Hello!")
    consent_give(user=user, purpose=Consent.Purpose.CHAT)
    message = audience.chat_post(performance=performance, user=user, text="Hello!")
    assert message.sentiment >= 0
