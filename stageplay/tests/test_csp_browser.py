"""In headless Chromium: our pages, the admin and the API docs work under the policy."""

from __future__ import annotations

import pytest

from agents.models import Character
from performances import services
from performances.models import Scene

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_pages_admin_and_api_docs_run_without_policy_violations(
    chromium, live_server, settings, cast, staff_user
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    staff_user.set_password("curtain-call-42")
    staff_user.save()
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    show = services.performance_create(scene=scene, created_by=staff_user)
    url = live_server.url
    page = chromium.new_context().new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", "stagehand")
    page.fill("#id_password", "curtain-call-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")
    page.goto(f"{url}/admin/agents/character/{cast['kenzaki'].pk}/change/")
    page.wait_for_selector("#character_form")

    page.goto(f"{url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() >= 20

    page.goto(f"{url}/performances/{show.pk}/")
    colour = page.eval_on_selector(
        ".actor", "node => node.style.getPropertyValue('--actor')"
    )
    assert colour.strip().startswith("#")
    for path in ("/", "/account/api-keys/", "/council/"):
        page.goto(f"{url}{path}")
    assert violations == []


HOSTILE = '<script>alert("owned")</script><img src=x onerror=alert(1)>\u202e'


@pytest.fixture
def hostile_show(transactional_db, cast):
    """Return a performance whose scene, cast and line hold hostile text.

    Made before the browser starts: events cannot be sent from Playwright's loop.
    """
    Character.objects.filter(slug="kenzaki").update(name=HOSTILE[:100])
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    Scene.objects.filter(pk=scene.pk).update(title=HOSTILE, synopsis=HOSTILE)
    show = services.performance_create(scene=scene)
    services.line_append(performance=show, text=HOSTILE, speaker_name=HOSTILE[:100])
    return show


def test_hostile_text_runs_nothing_in_the_browser(hostile_show, chromium, live_server):
    page = chromium.new_context().new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ("/", f"/performances/{hostile_show.pk}/", "/council/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        assert page.locator('img[src="x"]').count() == 0, path
        assert HOSTILE[:30] in page.inner_text("main"), path
    assert dialogs == []
