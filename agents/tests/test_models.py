"""Character and memory models: validation of profiles and parameters."""

import pytest
from django.core.exceptions import ValidationError

from agents.models import Character, Emotion
from agents.promptbook import EMOTIONS
from agents.selectors import UnknownCharacter, character_resolve


def make_character(**overrides) -> Character:
    fields = {"slug": "hirose", "name": "Shiori Hirose", "colour": "#112233"}
    fields.update(overrides)
    return Character(**fields)


def test_emotion_choices_match_the_prompt_book():
    assert tuple(Emotion.values) == EMOTIONS


@pytest.mark.django_db
def test_risk_tolerance_out_of_range_is_a_field_error():
    with pytest.raises(ValidationError) as exc:
        make_character(risk_tolerance=1.5).full_clean()
    assert set(exc.value.error_dict) == {"risk_tolerance"}
    assert "less than or equal to 1.0" in str(exc.value)


@pytest.mark.django_db
def test_unknown_analysis_depth_is_a_field_error():
    with pytest.raises(ValidationError) as exc:
        make_character(analysis_depth="extreme").full_clean()
    assert set(exc.value.error_dict) == {"analysis_depth"}
    assert "extreme" in str(exc.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("talkativeness", -0.1),
        ("colour", "blue"),
        ("aliases", "kazuki"),
        ("example_lines", [""]),
        ("relationships", ["tachibana"]),
        ("capabilities", [3]),
    ],
)
def test_malformed_profile_fields_are_rejected(field, value):
    with pytest.raises(ValidationError) as exc:
        make_character(**{field: value}).full_clean()
    assert field in exc.value.error_dict


@pytest.mark.django_db
def test_alias_equal_to_slug_is_rejected():
    with pytest.raises(ValidationError) as exc:
        make_character(aliases=["hirose"]).full_clean()
    assert "aliases" in exc.value.error_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("kazuki", "kenzaki"),
        ("tachibana", "tachibana"),
        ("aikawa", "hajime"),
        ("mutsuki", "mutsuki"),
        ("Kazuma Kenzaki", "kenzaki"),
        ("HIROSE", "shiori"),
    ],
)
def test_activation_names_resolve_to_the_cast(cast, name, slug):
    assert character_resolve(name=name).slug == slug


@pytest.mark.django_db
def test_unknown_name_lists_the_valid_choices(cast):
    with pytest.raises(UnknownCharacter) as exc:
        character_resolve(name="philip")
    assert "philip" in str(exc.value) and "kenzaki" in str(exc.value)
