"""Fixtures for the API tests: a user of each role, their clients, a staged scene."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from performances import services
from performances.models import Performance, Scene
from stageplay.accounts.models import Role
from stageplay.accounts.services import account_signup
from stageplay.api.keys import api_key_create

PASSWORD = "stage-door-9981"
SCRIPTED = "agents.tests.scripted.ScriptedBackend"
COUNCIL_ANSWERS = [
    "[determination] We start a daily stand-up tomorrow and keep it short.",
    "[calm] The risk is meeting fatigue; measure response times first.",
    "[calm] Most requests get lost in private chats; use one shared tracker.",
    "[joy] Let each team name one listener who carries worries upward.",
]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash test passwords quickly: these tests are not about password strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def scripted_model(settings):
    """Point the stage's model at a scripted backend, so nothing loads a model."""
    from agents.minds import backend_cache_clear

    settings.STAGEPLAY = {
        **settings.STAGEPLAY,
        "BACKEND": SCRIPTED,
        "BACKEND_OPTIONS": {SCRIPTED: {"outputs": COUNCIL_ANSWERS}},
    }
    backend_cache_clear()
    yield
    backend_cache_clear()


def _member(username: str, role: str):
    """Return a new user with `role`."""
    return account_signup(
        username=username, email=f"{username}@example.com", password=PASSWORD, role=role
    )


@pytest.fixture
def audience_user(db):
    """Return a signed-up audience member."""
    return _member("aiko", Role.AUDIENCE)


@pytest.fixture
def performer_user(db):
    """Return a signed-up performer."""
    return _member("ren", Role.PERFORMER)


@pytest.fixture
def performer_key(performer_user) -> str:
    """Return a fresh API key of the performer."""
    return api_key_create(user=performer_user, name="script")[1]


def key_client(key: str) -> APIClient:
    """Return an API client that sends `Authorization: Api-Key <key>`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def clients(audience_user, performer_user, performer_key, staff_user):
    """Return an API client per role: signed in by session, or by the key."""
    made = {"anonymous": APIClient(), "api_key": key_client(performer_key)}
    for role, user in (
        ("audience", audience_user),
        ("performer", performer_user),
        ("staff", staff_user),
    ):
        made[role] = APIClient()
        made[role].force_login(user)
    return made


@pytest.fixture
def scene(cast) -> Scene:
    """Return the scene at Café Jacaranda, with its cast."""
    return Scene.objects.get(slug="jacaranda-after-the-fight")


def stage(scene: Scene, status: str = "scheduled", **options) -> Performance:
    """Return a performance of `scene` brought to `status` through the services."""
    performance = services.performance_create(scene=scene, **options)
    if status in ("running", "paused", "finished"):
        services.performance_start(performance=performance)
    if status == "paused":
        services.performance_pause(performance=performance)
    if status == "finished":
        services.performance_finish(performance=performance)
    return performance
