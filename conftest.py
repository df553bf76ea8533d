"""Fixtures shared by every app's tests: the cast, users and signed-in clients."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture
def cast(db):
    """Load the shipped cast and scenes into the test database."""
    call_command("load_cast", verbosity=0)
    from agents.models import Character

    return {c.slug: c for c in Character.objects.all()}


@pytest.fixture
def staff_user(django_user_model):
    """Return a staff superuser who curates the cast."""
    return django_user_model.objects.create_superuser(
        username="stagehand", email="stagehand@example.com", password="curtain-call-42"
    )


@pytest.fixture
def staff_client(client, staff_user):
    """Return a test client signed in as staff."""
    client.force_login(staff_user)
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache, so rate limits do not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
