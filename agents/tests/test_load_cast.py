"""Loading the cast: idempotent, respectful of admin edits, atomic on bad files."""

import json

import pytest
from django.core.management import CommandError, call_command

from agents.models import Character
from performances.models import Scene
from stageplay.conf import stage_settings

pytestmark = pytest.mark.django_db


def shipped_cast() -> dict:
    with open(stage_settings.CAST_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def write(tmp_path, data) -> str:
    path = tmp_path / "cast.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), "utf-8")
    return str(path)


def test_load_cast_creates_the_blade_cast_and_scenes():
    call_command("load_cast", verbosity=0)
    core = set(Character.objects.filter(is_core=True).values_list("slug", flat=True))
    assert core == {"kenzaki", "tachibana", "hajime", "mutsuki"}
    assert 4 < Character.objects.count() <= 12
    assert Scene.objects.count() >= 3
    for scene in Scene.objects.all():
        assert scene.roles.filter(on_stage=True).exists()


def test_second_load_changes_nothing():
    call_command("load_cast", verbosity=0)
    before = list(Character.objects.values_list("slug", "updated_at"))
    call_command("load_cast", verbosity=0)
    assert list(Character.objects.values_list("slug", "updated_at")) == before


def test_admin_edits_survive_a_reload_unless_forced():
    call_command("load_cast", verbosity=0)
    Character.objects.filter(slug="kenzaki").update(speaking_style="Edited by hand.")
    call_command("load_cast", verbosity=0)
    assert Character.objects.get(slug="kenzaki").speaking_style == "Edited by hand."
    call_command("load_cast", "--force", verbosity=0)
    assert Character.objects.get(slug="kenzaki").speaking_style != "Edited by hand."


def test_invalid_json_is_reported_with_its_position_and_writes_nothing(tmp_path):
    path = write(tmp_path, '{"characters": [\n  {"slug": "x",}\n]}')
    with pytest.raises(CommandError, match=r"cast.json: line 2, column \d+"):
        call_command("load_cast", path)
    assert Character.objects.count() == 0


def test_a_bad_field_names_file_record_and_field_and_writes_nothing(tmp_path):
    data = shipped_cast()
    data["characters"][5]["risk_tolerance"] = 1.5
    with pytest.raises(CommandError) as exc:
        call_command("load_cast", write(tmp_path, data))
    message = str(exc.value)
    assert "cast.json" in message
    assert f"characters[5] ({data['characters'][5]['slug']})" in message
    assert "field risk_tolerance" in message
    assert Character.objects.count() == 0 and Scene.objects.count() == 0


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["characters"].append("kenzaki"), "expected an object"),
        (lambda d: d["characters"][0].update(rank=3), "unknown field(s) rank"),
        (lambda d: d["characters"][1].pop("slug"), "field slug"),
        (lambda d: d["characters"].append(dict(d["characters"][0])), "duplicate slug"),
        (lambda d: d["scenes"][0]["cast"].append({"character": "philip"}), "philip"),
        (lambda d: d["scenes"][1].update(turn_limit=0), "field turn_limit"),
    ],
)
def test_malformed_records_write_nothing(tmp_path, mutate, expected):
    data = shipped_cast()
    mutate(data)
    with pytest.raises(CommandError, match=r".*") as exc:
        call_command("load_cast", write(tmp_path, data))
    assert expected in str(exc.value)
    assert Character.objects.count() == 0 and Scene.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_cast", str(tmp_path / "absent.json"))


def test_cast_read_returns_the_file_s_characters_without_saving(tmp_path):
    from agents.services import CastFileError, cast_read

    cast = cast_read(path=stage_settings.CAST_FILE)

    assert {"kenzaki", "tachibana", "hajime", "mutsuki"} <= set(cast)
    assert cast["mutsuki"].function == shipped_cast()["characters"][3]["function"]
    assert all(c.pk is None for c in cast.values())
    assert not Character.objects.exists()

    data = shipped_cast()
    data["characters"][1]["risk_tolerance"] = 7
    with pytest.raises(CastFileError, match=r"characters\[1\] \(\w+\): field risk"):
        cast_read(path=write(tmp_path, data))
