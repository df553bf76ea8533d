"""The security baseline: CSP without inline script, CSRF on every form, size limits,
sign-in throttling, redacted logs, and production settings that pass `check --deploy`."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from performances import services
from performances.models import Scene
from stageplay.security import RedactingFilter, redact

BASE_DIR = Path(settings.BASE_DIR)
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash test passwords quickly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def show(cast, staff_user):
    """Return a running performance with a line, staged by staff."""
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    performance = services.performance_create(scene=scene, created_by=staff_user)
    services.performance_start(performance=performance)
    services.line_append(performance=performance, character=cast["kenzaki"], text="Go.")
    return performance


def our_pages(show, cast) -> list[str]:
    """Return the URLs of the pages a signed-in staff member can open."""
    character = cast["kenzaki"]
    return [
        "/",
        f"/performances/{show.pk}/",
        "/council/",
        "/account/",
        "/account/data/",
        "/account/api-keys/",
        "/account/signup/",
        "/account/password_change/",
        "/admin/",
        "/admin/agents/character/",
        f"/admin/agents/character/{character.pk}/change/",
        "/admin/api/userapikey/add/",
        "/api/docs/",
        "/api/characters/?format=api",
    ]


class PageScan(HTMLParser):
    """Collect what a Content-Security-Policy without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.inline_scripts: list[str] = []
        self.script_sources: list[str] = []
        self.handlers: list[str] = []
        self.style_attributes: list[str] = []
        self.style_elements = 0
        self.javascript_urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name == "style":
                self.style_attributes.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action", "formaction") and value:
                if (
                    re.sub(r"[\s\x00-\x1f]", "", value)
                    .lower()
                    .startswith("javascript:")
                ):
                    self.javascript_urls.append(value)
        if tag == "style":
            self.style_elements += 1
        if tag == "script":
            if "src" in attributes:
                self.script_sources.append(attributes["src"])
            elif attributes.get("type", "") not in ("application/json",):
                self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data.strip()[:80])


def scan(html: str) -> PageScan:
    """Return what `html` holds that the policy would block."""
    parser = PageScan()
    parser.feed(html)
    return parser


@pytest.mark.django_db
def test_every_page_carries_the_policy_and_needs_no_inline_script(
    staff_client, show, cast
):
    for url in our_pages(show, cast):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == POLICY, url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        found = scan(response.content.decode())
        assert found.inline_scripts == [], url
        assert found.handlers == [], url
        assert found.javascript_urls == [], url
        assert found.style_elements == 0, url
        assert found.style_attributes == [], url
        # Scripts come from this site only: no CDN.
        assert all(src.startswith("/") for src in found.script_sources), url


@pytest.mark.django_db
def test_api_and_export_responses_carry_the_policy(client, show):
    for url in (
        "/api/",
        "/api/characters/",
        f"/api/performances/{show.pk}/export/vtt/",
    ):
        assert client.get(url)["Content-Security-Policy"] == POLICY, url


@pytest.mark.django_db
def test_the_api_docs_load_their_script_and_styles_from_this_site(client):
    page = client.get("/api/docs/").content.decode()
    sources = scan(page).script_sources
    assert any("swagger-ui-bundle.js" in s for s in sources)
    init = next(s for s in sources if "script=" in s)
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert stylesheets and all(href.startswith("/static/") for href in stylesheets)
    assert "http://" not in page and "https://" not in page


def test_every_post_form_in_the_templates_has_a_csrf_token():
    roots = [
        BASE_DIR / "templates",
        *BASE_DIR.glob("*/templates"),
        *BASE_DIR.glob("*/*/templates"),
    ]
    forms = 0
    for root in roots:
        for template in root.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for form in re.findall(r"<form\b[^>]*>.*?</form>", text, re.S | re.I):
                if re.search(r"""method=["']?post""", form, re.I):
                    forms += 1
                    assert "{% csrf_token %}" in form, f"{template}: {form[:120]}"
    assert forms >= 8


@pytest.mark.django_db
def test_posts_without_the_csrf_token_are_refused(staff_user, show):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    for url, data in (
        ("/account/", {"display_name": "x", "role": "audience"}),
        ("/account/api-keys/", {"name": "k", "expires": "30"}),
        (f"/performances/{show.pk}/control/", {"action": "pause"}),
        ("/account/data/erase/", {"password": "curtain-call-42"}),
    ):
        assert client.post(url, data).status_code == 403, url
    show.refresh_from_db()
    assert show.status == "running"


# Request sizes


def test_upload_limits_are_set():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == 2 * 1024 * 1024
    assert "stageplay.security.RequestSizeLimitMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_an_api_body_over_the_limit_is_413_with_the_limit(client):
    body = '{"task": "' + "x" * (300 * 1024) + '"}'
    response = client.post("/api/council/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The request body is 300 KB; the limit is 256 KB. "
        "Send a smaller file or less text."
    )


@pytest.mark.django_db
def test_a_form_body_over_the_limit_is_413(client):
    response = client.post(
        "/account/signup/",
        "username=" + "x" * (1536 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "the limit is 1.0 MB" in response.content.decode()


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_413(client, settings):
    settings.STAGEPLAY = {**settings.STAGEPLAY, "MAX_REQUEST_BYTES": 4096}
    upload = io.BytesIO(b"\x89PNG" + b"0" * 8000)
    upload.name = "portrait.png"
    response = client.post("/account/signup/", {"portrait": upload})
    assert response.status_code == 413
    assert "the limit is 4 KB" in response.content.decode()


@pytest.mark.django_db
def test_a_form_field_over_the_memory_limit_is_413_even_with_csrf_checks(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    client = Client(enforce_csrf_checks=True)
    response = client.post("/account/signup/", {"username": "x" * 4000, "note": "y"})
    assert response.status_code == 413


@pytest.mark.django_db
def test_a_garbled_content_length_is_400(client):
    response = client.generic(
        "POST",
        "/api/council/",
        b"{}",
        CONTENT_LENGTH="lots",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Content-Length must be a number" in response.content.decode()


# Sign-in throttling


def _sign_in(
    client: Client, username: str, password: str, url: str = "/account/login/"
):
    return client.post(url, {"username": username, "password": password})


@pytest.mark.django_db
def test_too_many_failed_sign_ins_lock_the_username_with_429(client, staff_user):
    for _ in range(5):
        assert _sign_in(client, "stagehand", "wrong").status_code == 200
    locked = _sign_in(client, "stagehand", "curtain-call-42")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) == 900
    assert "_auth_user_id" not in client.session
    # Another account from the same address may still sign in.
    other = Client()
    assert _sign_in(other, "someone-else", "wrong").status_code == 200


@pytest.mark.django_db
def test_the_admin_sign_in_is_throttled_too(client, staff_user):
    for _ in range(5):
        _sign_in(client, "stagehand", "wrong", "/admin/login/")
    assert _sign_in(client, "stagehand", "wrong", "/admin/login/").status_code == 429
    assert _sign_in(client, "stagehand", "wrong").status_code == 429


@pytest.mark.django_db
def test_one_address_is_locked_after_many_usernames(client, settings):
    settings.STAGEPLAY = {**settings.STAGEPLAY, "LOGIN_FAILURES_PER_ADDRESS": 3}
    for n in range(3):
        assert _sign_in(client, f"guess{n}", "wrong").status_code == 200
    assert _sign_in(client, "guess9", "wrong").status_code == 429
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    assert _sign_in(elsewhere, "guess9", "wrong").status_code == 200


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_usernames_failures(client, staff_user):
    for _ in range(4):
        _sign_in(client, "stagehand", "wrong")
    assert _sign_in(client, "stagehand", "curtain-call-42").status_code == 302
    client.logout()
    for _ in range(4):
        assert _sign_in(client, "stagehand", "wrong").status_code == 200


# Logs


SECRETS = [
    ("Authorization: Api-Key AbCd1234.s3cr3tValue", "s3cr3tValue"),
    ("{'HTTP_AUTHORIZATION': 'Api-Key AbCd1234.s3cr3tValue'}", "s3cr3tValue"),
    ('{"Authorization": "Bearer eyJhbGciOi.payload"}', "eyJhbGciOi"),
    ("used key Api-Key AbCd1234.s3cr3tValue to call", "s3cr3tValue"),
    ("Cookie: sessionid=abc123sess; csrftoken=tok456", "abc123sess"),
    ("Cookie: sessionid=abc123sess; csrftoken=tok456", "tok456"),
    ("{'HTTP_COOKIE': 'sessionid=abc123sess'}", "abc123sess"),
    ("POST username=kei&password=hunter2hunter&next=/", "hunter2hunter"),
    ('{"password": "hunter2hunter"}', "hunter2hunter"),
    ("new_password1=hunter2hunter&new_password2=hunter2hunter", "hunter2hunter"),
    ("sessionid=abc123sess", "abc123sess"),
    ("csrfmiddlewaretoken=tok456&x=1", "tok456"),
    ("X-Api-Key: AbCd1234.s3cr3tValue", "s3cr3tValue"),
    ("SECRET_KEY='django-like-secret-value'", "django-like-secret-value"),
]


@pytest.mark.parametrize("text, secret", SECRETS)
def test_redaction_removes_keys_passwords_and_sessions(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_redaction_leaves_ordinary_messages_alone():
    for text in (
        "Performance 4 is running and cannot become running.",
        "GET /api/performances/3/lines/?since=2 200",
        "tokens=42 latency_ms=120 for Kazuma Kenzaki",
    ):
        assert redact(text) == text


def test_the_configured_handlers_redact_what_they_write(settings):
    handlers = settings.LOGGING["handlers"]
    assert handlers and all("redact" in h.get("filters", []) for h in handlers.values())
    redact = settings.LOGGING["filters"]["redact"]
    assert redact["()"].endswith("RedactingFilter")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("stageplay.tests.redaction")
    log.addHandler(handler)
    try:
        log.warning("request headers %s", {"HTTP_AUTHORIZATION": "Api-Key ab.cd1234"})
        try:
            raise ValueError("bad login password=hunter2hunter")
        except ValueError:
            log.exception("sign-in failed for %s", "kei")
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert "cd1234" not in written and "hunter2hunter" not in written
    assert "sign-in failed for kei" in written and "ValueError" in written


# Production settings


def _production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Return a production environment for a subprocess."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")
    }
    env.update(
        STAGEPLAY_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="stage.example.com, www.stage.example.com",
        STAGEPLAY_DATA_DIR=str(tmp_path),
        STAGEPLAY_NO_WORKER="1",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_in_production_mode(tmp_path):
    result = _manage(
        _production(tmp_path), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_secure_and_read_the_environment(tmp_path):
    code = (
        "from django.conf import settings as s; import json; print(json.dumps(["
        "s.DEBUG, s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER]))"
    )
    env = _production(tmp_path, SECURE_SSL_REDIRECT="0", STAGEPLAY_BEHIND_PROXY="1")
    result = _manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '[false, ["stage.example.com", "www.stage.example.com"], true, true, false, '
        '31536000, ["HTTP_X_FORWARDED_PROTO", "https"]]'
    )


@pytest.mark.parametrize(
    "missing, message",
    [
        ({"SECRET_KEY": None}, "needs these environment variables: SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "needs these environment variables: ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS names no host"),
    ],
    ids=["no secret key", "no hosts", "blank hosts"],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing, message):
    result = _manage(_production(tmp_path, **missing), "check")
    assert result.returncode != 0
    assert message in result.stderr
