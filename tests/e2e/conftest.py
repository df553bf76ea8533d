"""A live daphne server with its embedded worker, and headless Chromium, for e2e tests."""

from __future__ import annotations

import os
import shutil
from functools import partial

import pytest
from channels.testing.live import make_application, set_database_connection
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections

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


@pytest.fixture(scope="session")
def chromium(django_db_setup, django_db_blocker):
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
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def stage_server(transactional_db, settings):
    """Serve the project with daphne in a forked process, embedded worker included."""
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    connections.close_all()
    process = DaphneProcess(
        "localhost",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=set_database_connection,
    )
    process.start()
    while not process.ready.wait(timeout=1):
        if not process.is_alive():
            raise RuntimeError("daphne did not start")
    yield f"http://localhost:{process.port.value}"
    process.terminate()
    process.join()
