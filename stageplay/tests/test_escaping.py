"""Hostile text from users and models stays text: in pages, the admin, the API,
websocket frames and exports. Markup is escaped, `javascript:` never becomes a link,
and bidi controls (U+202E) cannot reorder what surrounds them."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from rest_framework.test import APIClient

from agents.models import Character
from performances import services
from performances.models import Scene
from performances.routing import websocket_urlpatterns
from stageplay.accounts.services import profile_update
from stageplay.api.keys import api_key_create
from stageplay.tests.test_security import scan

SCRIPT = '<script>alert("owned")</script>'
IMG = "<img src=x onerror=alert(1)>"
LINK = "javascript:alert(1)"
RLO = "\u202eevil\u202c"
HOSTILE = f'{SCRIPT} {IMG} {LINK} "q" {RLO}'
RAW = ("<script>alert", "<img src=x")  # live markup; escaped text is fine
ISOLATED = set(
    re.search(
        r"/\* Text from users.*?\*/(.*?)\{ unicode-bidi: isolate; \}",
        (settings.BASE_DIR / "static" / "css" / "stage.css").read_text(),
        re.S,
    )[1]
    .replace("\n", " ")
    .split(",")
)
ISOLATED = {selector.strip() for selector in ISOLATED}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash test passwords quickly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hostile(cast, staff_user):
    """Return a performance where every text a user or model writes is hostile."""
    Character.objects.filter(slug="kenzaki").update(
        name=f"{SCRIPT} {RLO}", function=HOSTILE, rider_name=IMG, emblem="<i>"
    )
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    Scene.objects.filter(pk=scene.pk).update(
        title=HOSTILE, location=SCRIPT, synopsis=HOSTILE, task=HOSTILE
    )
    performance = services.performance_create(scene=scene, created_by=staff_user)
    services.performance_start(performance=performance)
    kenzaki = Character.objects.get(slug="kenzaki")
    services.line_append(
        performance=performance, character=kenzaki, text=HOSTILE, direction=IMG
    )
    services.line_append(
        performance=performance, speaker_name=SCRIPT, text=LINK, kind="narration"
    )
    profile_update(user=staff_user, display_name=SCRIPT, role="audience")
    api_key_create(user=staff_user, name=IMG)
    return performance


class BidiScan(HTMLParser):
    """Find text holding bidi controls outside an element that isolates it."""

    VOID = {"img", "input", "br", "hr", "meta", "link", "source", "col", "wbr"}
    OWN_PARAGRAPH = {"title", "option", "textarea", "text"}  # text: SVG's text

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, set[str]]] = []
        self.loose: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append((tag, set((dict(attrs).get("class") or "").split())))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if "\u202e" in data and not self._isolated():
            self.loose.append(f"{'/'.join(t for t, _ in self.stack)}: {data[:40]!r}")

    def _isolated(self) -> bool:
        """Tell whether the current element or an ancestor matches an isolating rule."""
        if self.stack and self.stack[-1][0] in self.OWN_PARAGRAPH:
            return True
        return any(
            self._matches(depth, selector)
            for depth in range(len(self.stack))
            for selector in ISOLATED
        )

    def _matches(self, depth: int, selector: str) -> bool:
        """Tell whether the element at `depth` matches `selector` (`.a b` at most)."""
        *ancestors, last = selector.split()
        if not _simple_match(last, *self.stack[depth]):
            return False
        return not ancestors or any(
            _simple_match(ancestors[-1], *element) for element in self.stack[:depth]
        )


def _simple_match(simple: str, tag: str, classes: set[str]) -> bool:
    """Tell whether `tag.class` matches `tag` with `classes`."""
    name, _, cls = simple.partition(".")
    return (not name or name == tag) and (not cls or cls in classes)


def assert_inert(html: str, where: str) -> None:
    """Fail if `html` holds live markup, handlers or javascript: links from HOSTILE."""
    for raw in RAW:
        assert raw not in html, f"{where}: raw {raw!r}"
    found = scan(html)
    assert found.handlers == [] and found.javascript_urls == [], where
    assert not [s for s in found.inline_scripts if "owned" in s], where


@pytest.mark.django_db
def test_pages_escape_hostile_text(staff_client, hostile):
    pk = hostile.pk
    kenzaki = Character.objects.get(slug="kenzaki").pk
    shown = "&lt;script&gt;alert("
    pages = {
        "/": shown,
        f"/performances/{pk}/": shown,
        "/council/": shown,
        "/account/": shown,
        "/account/api-keys/": "&lt;img src=x onerror=alert(1)&gt;",
        "/admin/agents/character/": shown,
        f"/admin/agents/character/{kenzaki}/change/": shown,
        f"/admin/performances/performance/{pk}/change/": shown,
        f"/admin/performances/scene/{hostile.scene.pk}/change/": shown,
    }
    for url, escaped in pages.items():
        response = staff_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_inert(html, url)
        assert escaped in html, f"{url}: the text was not shown"


@pytest.mark.django_db
def test_bidi_controls_stay_inside_isolated_text_on_our_pages(staff_client, hostile):
    for url in ("/", f"/performances/{hostile.pk}/", "/council/"):
        scanner = BidiScan()
        scanner.feed(staff_client.get(url).content.decode())
        assert scanner.loose == [], url


@pytest.mark.django_db
def test_the_api_answers_hostile_text_as_escaped_json(staff_user, hostile):
    client = APIClient()
    client.force_login(staff_user)
    for url in (
        "/api/characters/kenzaki/",
        f"/api/scenes/{hostile.scene.slug}/",
        f"/api/performances/{hostile.pk}/",
        f"/api/performances/{hostile.pk}/lines/",
    ):
        response = client.get(url)
        assert response["Content-Type"] == "application/json", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        body = response.content.decode()
        assert "\u202e" not in body and "\\u202e" in body, url
    lines = client.get(f"/api/performances/{hostile.pk}/lines/").json()["results"]
    assert lines[0]["text"] == HOSTILE and lines[0]["direction"] == IMG
    browsable = client.get("/api/characters/kenzaki/", HTTP_ACCEPT="text/html")
    assert browsable["Content-Type"].startswith("text/html")
    assert_inert(browsable.content.decode(), "browsable API")


@pytest.mark.django_db
def test_exports_keep_hostile_text_inert(client, hostile):
    base = f"/api/performances/{hostile.pk}/export"
    for fmt in ("json", "srt", "vtt", "fountain"):
        response = client.get(f"{base}/{fmt}/")
        assert response["Content-Disposition"].startswith("attachment;"), fmt
        assert not response["Content-Type"].startswith("text/html"), fmt
        assert response["X-Content-Type-Options"] == "nosniff", fmt
        assert "\u202e" not in response.content.decode(), fmt
    vtt = client.get(f"{base}/vtt/").content.decode()
    assert "<script>" not in vtt and "&lt;script&gt;alert(" in vtt
    srt = client.get(f"{base}/srt/").content.decode()
    assert "<script>" not in srt and "<img" not in srt
    assert "＜script＞alert" in srt  # shown, but no player reads it as a tag
    document = json.loads(client.get(f"{base}/json/").content)
    assert document["lines"][0]["text"] == HOSTILE and document["title"] == HOSTILE


@pytest.mark.django_db(transaction=True)
async def test_websocket_frames_carry_hostile_text_as_json_data(hostile):
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/performances/{hostile.pk}/"
    )
    connected, _ = await communicator.connect()
    assert connected
    raw = await communicator.receive_from()
    await communicator.disconnect()
    snapshot = json.loads(raw)
    assert snapshot["lines"][0]["text"] == HOSTILE
    assert snapshot["performance"]["title"] == HOSTILE


def test_the_browser_scripts_render_text_only_as_text():
    for name in ("stage.js", "council.js"):
        source = (settings.BASE_DIR / "static" / "js" / name).read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            '.setAttribute("href',
            "createContextualFragment",
        ):
            assert sink not in source, f"{name} uses {sink}"
        assert ".textContent" in source, name
