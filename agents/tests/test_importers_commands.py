"""The import and export commands: scenes and cards in the database, all or nothing."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from agents.models import Character
from agents.promptbook import NARRATOR
from agents.tests.data.samples import (
    CARD_PROFILE,
    FOUNTAIN,
    SRT_ENGLISH,
    SRT_JAPANESE,
    XIYOU,
    jsonl,
    v2_card,
    write,
)
from agents.training.exporters import profile_to_card_png
from agents.training.importers import MAX_FILE_BYTES
from agents.training.store import (
    character_card_profile,
    dataset_from_db,
    scenes_import,
)
from performances.models import Scene, SceneRole, ScriptLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    """Two characters, one known by a Japanese alias."""
    kenzaki = Character.objects.create(slug="kenzaki", name="Kenzaki", aliases=["剣崎"])
    hajime = Character.objects.create(slug="hajime", name="Hajime", aliases=["始"])
    return kenzaki, hajime


def run(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *map(str, args), stdout=out)
    return out.getvalue()


def test_import_subtitles_writes_a_scene_per_file_with_speakers_resolved(
    tmp_path, cast
):
    english = write(tmp_path, "ep01.srt", SRT_ENGLISH)
    japanese = write(tmp_path, "ep02.srt", SRT_JAPANESE, encoding="cp932")
    out = run("import_subtitles", english, japanese)
    assert "Imported 2 scene(s), 8 lines" in out
    ep01 = Scene.objects.get(slug="ep01")
    assert ep01.source == Scene.Source.IMPORTED and ep01.source_file == str(english)
    rows = list(ep01.script.all())
    assert [row.character and row.character.slug for row in rows] == [
        "kenzaki",
        "hajime",
        "kenzaki",
        None,
        None,
    ]
    assert [row.needs_review for row in rows] == [False, False, True, False, False]
    assert rows[3].kind == "narration" and rows[3].speaker_name == ""
    ep02 = Scene.objects.get(slug="ep02").script.all()
    assert [row.character_id for row in ep02] == [cast[0].pk, cast[1].pk, None]
    assert [row.speaker_name for row in ep02] == ["剣崎", "始", "橘"]
    assert set(SceneRole.objects.values_list("character__slug", flat=True)) == {
        "kenzaki",
        "hajime",
    }


def test_import_subtitles_with_a_speaker_map_and_an_encoding(tmp_path, cast):
    mapping = write(
        tmp_path,
        "map.json",
        json.dumps({"剣崎": "kenzaki", "始": "hajime", "橘": "tachibana"}),
    )
    path = write(tmp_path, "ep02.srt", SRT_JAPANESE, encoding="cp932")
    run("import_subtitles", path, "--speakers", mapping, "--encoding", "cp932")
    rows = ScriptLine.objects.order_by("index")
    assert [row.speaker_name for row in rows] == ["剣崎", "始", "tachibana"]
    (scene,) = dataset_from_db()
    assert [line.speaker for line in scene.lines] == ["kenzaki", "hajime", "tachibana"]


BAD_FILES = {
    "mixed.srt": "Café\n".encode()
    + "1\n00:00:01,000 --> 00:00:02,000\nDéjà\n".encode("cp1252"),
    "timestamp.srt": b"1\n00:00:01,000 --> 00:00:0x,000\nHi\n",
    "backwards.srt": b"1\n00:00:05,000 --> 00:00:01,000\nHi\n",
    "empty.srt": b"",
    "binary.srt": bytes(range(256)),
    "huge.srt": SRT_ENGLISH.encode(),  # then grown past the size limit
    "truncated.jsonl": jsonl(XIYOU).encode()[:-40],
    "missing.jsonl": b'{"conversation": [{"system": "Kenzaki", "input": "hi"}]}\n',
    "not-object.jsonl": b"[1, 2, 3]\n",
    "card.json": json.dumps(v2_card({"description": "no name"})).encode(),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_a_clear_error_and_imports_nothing(tmp_path, cast, name):
    subtitles = name.endswith(".srt")
    good = write(
        tmp_path,
        "good.srt" if subtitles else "good.fountain",
        SRT_ENGLISH if subtitles else FOUNTAIN,
    )
    bad = write(tmp_path, name, BAD_FILES[name])
    if name == "huge.srt":
        with bad.open("ab") as handle:
            handle.truncate(MAX_FILE_BYTES + 1)
    command = "import_subtitles" if subtitles else "import_dataset"
    with pytest.raises(CommandError) as error:
        run(command, good, bad)
    message = str(error.value)
    assert message.startswith(f"{bad}: ")
    assert message.endswith("Nothing was imported.")
    assert Scene.objects.count() == ScriptLine.objects.count() == 0
    assert Character.objects.count() == 2


def test_an_unknown_speaker_with_a_map_imports_nothing(tmp_path, cast):
    mapping = write(tmp_path, "map.txt", "KENZAKI=kenzaki\n")
    path = write(tmp_path, "ep01.srt", SRT_ENGLISH)
    with pytest.raises(CommandError, match="unknown speaker 'HAJIME'"):
        run("import_subtitles", path, "--speakers", mapping)
    assert Scene.objects.count() == 0


def test_a_line_the_database_refuses_imports_nothing(tmp_path, cast):
    text = FOUNTAIN.replace("(joy; grins)", f"(joy; {'grins ' * 80})")
    path = write(tmp_path, "long.fountain", text)
    with pytest.raises(CommandError, match=r"line \d+: direction"):
        run("import_dataset", path)
    assert Scene.objects.count() == ScriptLine.objects.count() == 0


def test_import_dataset_keeps_fountain_scene_parts_and_replaces_on_reimport(
    tmp_path, cast
):
    path = write(tmp_path, "shelter.fountain", FOUNTAIN)
    run("import_dataset", path)
    first = Scene.objects.get(slug="the-bus-shelter-scene-1")
    assert (first.location, first.time, first.kind) == ("Bus Shelter", "night", "world")
    assert first.synopsis == "Rain traps two Riders under one roof."
    assert first.opening.startswith("Rain hammers the tin roof.")
    row = first.script.get(index=1)
    assert (row.character, row.emotion, row.direction) == (cast[0], "joy", "grins")
    out = run("import_dataset", path)
    assert "(2 replaced)" in out
    assert Scene.objects.count() == 2
    assert ScriptLine.objects.count() == 5


def test_a_scene_slug_taken_by_a_written_scene_gets_a_number(tmp_path, cast):
    Scene.objects.create(slug="the-bus-shelter", title="Written")
    path = write(tmp_path, "shelter.fountain", FOUNTAIN.split("INT. CAFE")[0])
    run("import_dataset", path)
    assert Scene.objects.get(slug="the-bus-shelter-2").source == "imported"
    assert Scene.objects.get(slug="the-bus-shelter").title == "Written"


def test_import_dataset_turns_a_card_into_a_character(tmp_path, cast):
    path = write(tmp_path, "card.json", json.dumps(v2_card(CARD_PROFILE)))
    out = run("import_dataset", path)
    assert "characters created: kazuma-kenzaki" in out
    character = Character.objects.get(slug="kazuma-kenzaki")
    assert character.name == "Kazuma Kenzaki"
    assert character.characteristics == "earnest, stubborn, kind"
    assert character.profile.startswith("A young Kamen Rider")
    assert "Scenario: Cafe Jacaranda" in character.profile
    assert character.example_lines == [
        "Haruka-san, is there any curry left?",
        "Someone has to.",
    ]


def test_a_png_card_of_a_character_restores_all_its_fields(tmp_path, cast):
    kenzaki = cast[0]
    kenzaki.rider_name, kenzaki.risk_tolerance = "Blade", 0.8
    kenzaki.relationships = {"hajime": "rival, then friend"}
    kenzaki.save()
    profile = character_card_profile(character=kenzaki)
    path = write(tmp_path, "kenzaki.png", profile_to_card_png(profile))
    Character.objects.filter(pk=kenzaki.pk).update(
        rider_name="", risk_tolerance=0.1, relationships={}
    )
    out = run("import_dataset", path)
    assert "updated: kenzaki" in out
    kenzaki.refresh_from_db()
    assert (kenzaki.rider_name, kenzaki.risk_tolerance) == ("Blade", 0.8)
    assert kenzaki.relationships == {"hajime": "rival, then friend"}


@pytest.mark.parametrize("format", ["xtuner", "character-llm"])
def test_exported_scripts_import_back_as_the_same_scenes(tmp_path, cast, format):
    run("import_dataset", write(tmp_path, "shelter.fountain", FOUNTAIN))
    run("import_subtitles", write(tmp_path, "ep01.srt", SRT_ENGLISH))
    before = dataset_from_db()
    out_path = tmp_path / "dataset.jsonl"
    out = run("export_dataset", out_path, "--format", format)
    assert f"Wrote 3 scene(s), {sum(len(s.lines) for s in before)} lines" in out
    Scene.objects.all().delete()
    run("import_dataset", out_path)
    after = dataset_from_db()

    def key(scene):
        return (scene.title, scene.heading, scene.task, scene.kind, scene.lines)

    assert sorted(map(key, after)) == sorted(map(key, before))


def test_export_with_no_scripts_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="No scene has a script"):
        run("export_dataset", tmp_path / "out.jsonl")


def test_export_to_a_missing_directory_is_an_error(tmp_path, cast):
    run("import_subtitles", write(tmp_path, "ep01.srt", SRT_ENGLISH))
    with pytest.raises(CommandError, match="no such directory"):
        run("export_dataset", tmp_path / "nowhere" / "out.jsonl")


def test_scenes_import_resolves_speakers_by_display_name(cast):
    from agents.training.importers import ImportedScene, SourceLine

    scene = ImportedScene(
        title="By name",
        lines=[SourceLine(speaker="speaker-00a95216", text="待て！")],
        speaker_names={"speaker-00a95216": "剣崎"},
    )
    result = scenes_import(scenes=[scene])
    assert result.slugs == ["by-name"]
    assert ScriptLine.objects.get().character == cast[0]
    assert dataset_from_db()[0].lines[0].speaker == "kenzaki"
    assert NARRATOR not in dataset_from_db()[0].speaker_names
