"""API keys: the header's exact form, failures, hashing, revocation, expiry, pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from stageplay.accounts import privacy
from stageplay.api.keys import api_key_create, api_key_revoke
from stageplay.api.models import UserAPIKey
from stageplay.api.tests.conftest import PASSWORD, key_client

pytestmark = pytest.mark.django_db
STAGE = {"scene": "jacaranda-after-the-fight"}


def _stage_with(header: str | None):
    """Return the answer to staging a scene with `header` as Authorization."""
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client.post("/api/performances/", STAGE, format="json")


def test_a_key_in_the_specified_header_acts_as_its_user(cast, performer_key):
    response = _stage_with(f"Api-Key {performer_key}")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "header, message",
    [
        (None, "Authentication credentials were not provided"),
        ("Bearer {key}", "Unsupported authorization scheme 'Bearer'"),
        ("Token {key}", "Unsupported authorization scheme 'Token'"),
        ("Api-Key{key}", "exactly one space"),
        ("Api-Key  {key}", "exactly one space"),
        ("Api-Key ", "missing"),
        ("Api-Key", "missing"),
        ("", "missing"),
        ("Api-Key {prefix}.wrong-secret-of-the-right-prefix", "not valid"),
        ("Api-Key {prefix}", "not valid"),
        ("Api-Key nothing.here", "not valid"),
    ],
    ids=[
        "missing header",
        "bearer",
        "token",
        "no space",
        "two spaces",
        "empty key",
        "scheme only",
        "empty header",
        "right prefix wrong secret",
        "prefix only",
        "unknown prefix",
    ],
)
def test_malformed_or_wrong_keys_answer_401_saying_what_to_send(
    cast, performer_key, header, message
):
    prefix = performer_key.split(".")[0]
    if header is not None:
        header = header.format(key=performer_key, prefix=prefix)
    response = _stage_with(header)
    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert response["WWW-Authenticate"] == 'Api-Key realm="api"'


def test_a_bad_key_is_refused_even_where_anonymous_reading_is_allowed(cast):
    client = APIClient()
    assert client.get("/api/characters/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Bearer abc")
    assert client.get("/api/characters/").status_code == 401


def test_a_revoked_key_stops_working_at_once(cast, performer_user, performer_key):
    assert _stage_with(f"Api-Key {performer_key}").status_code == 201
    api_key_revoke(user=performer_user, prefix=performer_key.split(".")[0])
    response = _stage_with(f"Api-Key {performer_key}")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_an_expired_key_is_refused_with_its_date(cast, performer_user):
    api_key, key = api_key_create(
        user=performer_user,
        name="short-lived",
        expires_at=timezone.now() + timedelta(minutes=1),
    )
    UserAPIKey.objects.filter(pk=api_key.pk).update(
        expiry_date=timezone.now() - timedelta(seconds=1)
    )
    response = _stage_with(f"Api-Key {key}")
    assert response.status_code == 401
    assert "expired on" in response.json()["detail"]


def test_a_key_of_a_disabled_account_is_refused(cast, performer_user, performer_key):
    performer_user.is_active = False
    performer_user.save()
    assert _stage_with(f"Api-Key {performer_key}").status_code == 401


def test_keys_carry_their_users_role(cast, audience_user, staff_user):
    audience = key_client(api_key_create(user=audience_user, name="a")[1])
    staff = key_client(api_key_create(user=staff_user, name="s")[1])
    assert audience.post("/api/performances/", STAGE, format="json").status_code == 403
    assert staff.post("/api/performances/", STAGE, format="json").status_code == 201
    change = {"talkativeness": 0.1}
    assert (
        audience.patch("/api/characters/kotaro/", change, format="json").status_code
        == 403
    )
    assert (
        staff.patch("/api/characters/kotaro/", change, format="json").status_code == 200
    )


def _database_text() -> str:
    """Return every row of every table, sessions decoded, as one string."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            rows.extend(repr(row) for row in cursor.fetchall())
    rows.extend(json.dumps(s.get_decoded()) for s in Session.objects.all())
    return "\n".join(rows)


def test_no_key_is_stored_in_plain_text(client, cast, performer_user, staff_user):
    keys = [api_key_create(user=performer_user, name="service")[1]]
    client.force_login(performer_user)
    page = client.post("/account/api-keys/", {"name": "page", "expires": "30"})
    keys.append(re.search(r'value="([^"]+\.[^"]+)"', page.content.decode())[1])
    client.force_login(staff_user)
    admin = client.post(
        "/admin/api/userapikey/add/",
        {"name": "admin", "user": performer_user.pk, "expiry_date_0": ""},
        follow=True,
    )
    keys.append(
        re.search(r"The API key for admin is: (\S+)\.", admin.content.decode())[1]
    )
    stored = _database_text()
    for key in keys:
        prefix, secret = key.split(".")
        assert key_client(key).get("/api/performances/").status_code == 200
        assert prefix in stored  # found by its prefix ...
        assert secret not in stored and key not in stored  # ... checked by its hash
    hashes = UserAPIKey.objects.values_list("hashed_key", flat=True)
    assert all(h.startswith("sha512$$") for h in hashes)


def test_the_account_page_shows_a_new_key_once(client, performer_user):
    client.force_login(performer_user)
    created = client.post("/account/api-keys/", {"name": "subtitles", "expires": "90"})
    body = created.content.decode()
    key = re.search(r'value="([^"]+\.[^"]+)"', body)[1]
    assert "shown only this once" in body
    assert "no-store" in created["Cache-Control"]
    again = client.get("/account/api-keys/").content.decode()
    assert key not in again and key.split(".")[0] in again
    api_key = UserAPIKey.objects.get(user=performer_user)
    assert api_key.name == "subtitles"
    days = (api_key.expiry_date - timezone.now()).days
    assert 88 <= days <= 90


def test_the_account_page_revokes_only_the_users_own_keys(
    client, performer_user, audience_user
):
    mine, key = api_key_create(user=performer_user, name="mine")
    theirs, _ = api_key_create(user=audience_user, name="theirs")
    client.force_login(performer_user)
    client.post(f"/account/api-keys/{theirs.prefix}/revoke/")
    theirs.refresh_from_db()
    assert not theirs.revoked
    client.post(f"/account/api-keys/{mine.prefix}/revoke/")
    mine.refresh_from_db()
    assert mine.revoked
    assert key_client(key).get("/api/performances/").status_code == 401
    assert "revoked" in client.get("/account/api-keys/").content.decode()


def test_the_account_page_asks_for_a_name_and_limits_the_number_of_keys(
    client, performer_user, settings
):
    settings.STAGEPLAY = {**settings.STAGEPLAY, "API_KEYS_PER_USER": 2}
    client.force_login(performer_user)
    assert (
        client.post("/account/api-keys/", {"name": "", "expires": "30"}).status_code
        == 400
    )
    for name in ("one", "two"):
        client.post("/account/api-keys/", {"name": name, "expires": "never"})
    third = client.post("/account/api-keys/", {"name": "three", "expires": "30"})
    assert third.status_code == 400
    assert "revoke one you no longer use" in third.content.decode()
    assert UserAPIKey.objects.filter(user=performer_user).count() == 2


def test_the_key_pages_need_sign_in(client):
    assert client.get("/account/api-keys/").status_code == 302


def test_last_use_is_recorded(cast, performer_user, performer_key):
    key_client(performer_key).get("/api/performances/")
    assert UserAPIKey.objects.get(user=performer_user).last_used_at is not None


def test_the_data_export_describes_keys_and_erasure_deletes_them(
    client, performer_user, performer_key
):
    client.force_login(performer_user)
    document = client.get("/account/data/?download=1").content.decode()
    described = json.loads(document)["data"]["api.UserAPIKey.user"]
    assert described[0]["name"] == "script"
    assert performer_key.split(".")[1] not in document
    assert "hashed_key" not in described[0]
    privacy.account_erase(user=performer_user, password=PASSWORD)
    assert not UserAPIKey.objects.exists()
