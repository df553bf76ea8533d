"""Fixtures shared by every app's tests: the cast, users and signed-in clients."""

from __future__ import annotations

import os
import shutil

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


CHROMIUM = os.environ.get("STAGEPLAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium():
    """Launch Debian's Chromium through Playwright, or say loudly why not."""
    if not shutil.which(CHROMIUM):
        message = (
            f"CHROMIUM NOT FOUND at {CHROMIUM}: browser tests did not run. "
            "Install Debian's chromium package (apt-get install chromium)."
        )
        if os.environ.get("STAGEPLAY_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's guard
    # against ORM calls from async code would refuse the test's own database work.
    # It stops with its test, so later fixtures and tests get their thread back.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
