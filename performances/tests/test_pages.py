"""The playbill and the admin pages."""

import pytest
from django.contrib import admin
from django.urls import reverse

from agents.models import Character
from performances import services
from performances.models import Scene

pytestmark = pytest.mark.django_db

OUR_APPS = {"agents", "performances"}


def our_model_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
    ]


def test_playbill_shows_the_cast(client, cast):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    for character in Character.objects.filter(is_active=True):
        assert character.name in body
    assert "Kamen Rider Blade" in body and "Decision-making and execution" in body
    assert body.count('class="portrait"') == Character.objects.count()
    assert "After the Fight at Jacaranda" in body


def test_playbill_escapes_hostile_profile_text(client, cast):
    Character.objects.filter(slug="kotaro").update(
        name='<script>alert("x")</script>', emblem="<b>"
    )
    body = client.get("/").content.decode()
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;" in body


def test_playbill_lists_scheduled_performances(client, cast):
    scene = Scene.objects.get(slug="board-laboratory-alarm")
    performance = services.performance_create(scene=scene)
    body = client.get("/").content.decode()
    assert performance.get_absolute_url() in body


def test_every_admin_changelist_and_form_renders_for_staff(staff_client, cast):
    services.performance_create(scene=Scene.objects.first())
    for model, _ in our_model_admins():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert staff_client.get(changelist).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]
            )
            assert staff_client.get(change).status_code == 200, change


def test_admin_pages_redirect_anonymous_users_to_login(client, cast):
    for model, _ in our_model_admins():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_shows_validation_errors_for_parameters(staff_client, cast):
    kenzaki = cast["kenzaki"]
    url = reverse("admin:agents_character_change", args=[kenzaki.pk])
    form = {
        "name": kenzaki.name,
        "slug": kenzaki.slug,
        "aliases": "[]",
        "order": 1,
        "example_lines": "[]",
        "relationships": "{}",
        "capabilities": "[]",
        "emotional_baseline": "calm",
        "risk_tolerance": "1.5",
        "analysis_depth": "extreme",
        "talkativeness": "0.5",
        "colour": "#123456",
        "memories-TOTAL_FORMS": "0",
        "memories-INITIAL_FORMS": "0",
    }
    body = staff_client.post(url, form).content.decode()
    assert "less than or equal to 1.0" in body
    assert "Select a valid choice. extreme is not one of the available choices." in body
    kenzaki.refresh_from_db()
    assert kenzaki.risk_tolerance != 1.5


def test_admin_duplicates_and_exports_characters(staff_client, cast):
    url = reverse("admin:agents_character_changelist")
    pk = cast["hajime"].pk
    staff_client.post(url, {"action": "duplicate_characters", "_selected_action": [pk]})
    copy = Character.objects.get(slug="hajime-copy")
    assert copy.profile == cast["hajime"].profile and not copy.is_active
    response = staff_client.post(
        url, {"action": "export_characters", "_selected_action": [pk]}
    )
    assert response["Content-Type"] == "application/json"
    exported = response.json()["characters"][0]
    assert (
        exported["slug"] == "hajime" and exported["rider_name"] == "Kamen Rider Chalice"
    )
