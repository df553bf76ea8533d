"""End to end in headless Chromium: stage a show, watch it stream, react, join and speak."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agents import minds
from agents.tests.tiny_models import build_stage_model
from stageplay.accounts.models import Role
from stageplay.accounts.services import account_signup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "opening-night-77"


@pytest.fixture
def tiny_stage(tmp_path, settings):
    """Point the embedded backend at a tiny stage model and quicken the worker."""
    path = build_stage_model(tmp_path / "stage-model")
    settings.STAGEPLAY = {
        **settings.STAGEPLAY,
        "BACKEND": "embedded",
        "BACKEND_OPTIONS": {"embedded": {"path": str(path)}},
        "LINE_PACE_SECONDS": 0.2,
        "HUMAN_TURN_SECONDS": 30,
        "WORKER_POLL_SECONDS": 0.2,
    }
    minds.backend_cache_clear()
    return path


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/account/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_performance_streams_into_the_browser_and_a_human_joins(
    chromium, tiny_stage, stage_server, cast, django_user_model
):
    django_user_model.objects.create_superuser("director", "d@example.com", PASSWORD)
    account_signup(username="guest", email="", password=PASSWORD, role=Role.PERFORMER)

    staff = chromium.new_context()
    page = staff.new_page()
    sign_in(page, stage_server, "director")
    expect(page.get_by_text("Kazuma Kenzaki").first).to_be_visible()
    page.select_option("#id_scene", "jacaranda-after-the-fight")
    page.select_option("#id_strategy", "round_robin")
    page.fill("#id_turn_limit", "120")
    page.click("form.staging button[type=submit]")
    page.wait_for_url("**/performances/*/")
    expect(page.locator("#status")).to_have_text("Running")
    # A locator, not a string predicate: the page's CSP forbids eval.
    expect(page.locator("#transcript li.line").nth(4)).to_be_attached(timeout=60_000)
    texts = page.locator("#transcript li.line .text").all_text_contents()
    assert all(t.strip() for t in texts[:5])

    page.click("[data-reaction=applause]")
    expect(page.locator("[data-count=applause]")).to_have_text("1")

    guest = chromium.new_context()
    stage = guest.new_page()
    sign_in(stage, stage_server, "guest")
    stage.goto(page.url)
    stage.select_option("#claim-character", "hajime")
    stage.check("input[name=consent]")
    stage.click(".join form.inline-form button[type=submit]")
    expect(stage.get_by_text("You play Hajime Aikawa")).to_be_visible()
    expect(stage.locator("#cue")).to_be_visible(timeout=60_000)
    stage.fill("#speak-text", "I am watching the gate tonight. <b>Nobody</b> passes.")
    stage.click("#speak-form button[type=submit]")

    spoken = page.locator("#transcript li.line", has_text="I am watching the gate")
    expect(spoken).to_have_count(1, timeout=15_000)
    expect(spoken.locator(".tag")).to_have_text("performer")
    assert "<b>Nobody</b>" in spoken.locator(".text").text_content()
    staff.close()
    guest.close()
