"""Exporters: scenes to XTuner and Character-LLM and back; transcripts to SRT, VTT,
Fountain."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pysrt
import pytest

from agents.promptbook import NARRATOR
from agents.tests.data.samples import FOUNTAIN, write
from agents.training.exporters import (
    MIN_DISPLAY_MS,
    TranscriptLine,
    scenes_to_character_llm,
    scenes_to_xtuner,
    transcript_to_fountain,
    transcript_to_srt,
    transcript_to_vtt,
)
from agents.training.importers import (
    ImportedScene,
    SourceLine,
    read_character_llm,
    read_fountain,
    read_subtitles,
    read_xtuner,
)

CORPUS = sorted((Path(__file__).parents[1] / "corpus").glob("*.fountain"))
START = datetime(2025, 5, 1, 19, 0, tzinfo=UTC)


def same(scene) -> tuple:
    """Return what must survive a round trip: everything but where it came from."""
    return (
        scene.title,
        scene.heading,
        scene.task,
        scene.kind,
        scene.lines,
        scene.speaker_names,
    )


def mixed_scene() -> ImportedScene:
    """Return a scene with every kind of line the exporters must carry."""
    return ImportedScene(
        title="剣崎の決意",
        heading="Cafe Jacaranda, night. Rain on the windows.",
        task="Decide who goes.",
        kind="council",
        lines=[
            SourceLine(speaker=NARRATOR, text="Thunder.", emotion_given=False),
            SourceLine(speaker="kenzaki", text="I'll go.", emotion="determination"),
            SourceLine(speaker="kenzaki", text="(quietly) Alone.", emotion_given=False),
            SourceLine(
                speaker="tachibana", text="No.", emotion="anger", direction="stands"
            ),
            SourceLine(speaker="speaker-1a2b3c4d", text="待って！", emotion="fear"),
        ],
        speaker_names={
            "kenzaki": "Kenzaki",
            "tachibana": "Tachibana (Garren)",
            "speaker-1a2b3c4d": "剣崎",
        },
    )


@pytest.mark.parametrize(
    ("export", "read"),
    [(scenes_to_xtuner, read_xtuner), (scenes_to_character_llm, read_character_llm)],
)
def test_the_corpus_survives_export_and_import(tmp_path, export, read):
    scenes = [scene for path in CORPUS for scene in read_fountain(path)]
    back = read(write(tmp_path, "corpus.jsonl", export(scenes)))
    assert [same(scene) for scene in back] == [same(scene) for scene in scenes]


@pytest.mark.parametrize(
    ("export", "read"),
    [(scenes_to_xtuner, read_xtuner), (scenes_to_character_llm, read_character_llm)],
)
def test_names_directions_and_missing_emotions_survive_export(tmp_path, export, read):
    scene = mixed_scene()
    (back,) = read(write(tmp_path, "scene.jsonl", export([scene])))
    assert back.lines == scene.lines
    assert back.speaker_names["tachibana"] == "Tachibana Garren"
    assert (back.title, back.task, back.kind) == (scene.title, scene.task, "council")


def test_xtuner_records_are_conversations_the_toolkit_reads():
    record = json.loads(scenes_to_xtuner([mixed_scene()]))
    turns = record["conversation"]
    assert set(turns[0]) == {"system", "input", "output"}
    assert all(set(turn) == {"input", "output"} for turn in turns[1:])
    assert turns[3] == {"input": "Tachibana Garren", "output": "[anger] (stands) No."}


def test_character_llm_records_prompt_the_busiest_speaker():
    record = json.loads(scenes_to_character_llm([mixed_scene()]))
    assert record["prompt"].startswith("I want you to act like Kenzaki.")
    assert "Tachibana Garren (anger; stands): No.<|eot|>" in record["output"]
    assert set(record) == {"prompt", "output", "source"}


def transcript() -> list[TranscriptLine]:
    return [
        TranscriptLine(1, "Kenzaki", "Wait!", "determination", "", START),
        TranscriptLine(0, "", "Rain.", "calm", "", START - timedelta(seconds=2)),
        TranscriptLine(2, "Hajime", "Go <away> & stay.", "anger", "turns", START),
        TranscriptLine(3, "剣崎", "待て！", "fear", "", START + timedelta(seconds=30)),
    ]


def test_srt_export_times_lines_from_the_first_with_a_minimum_display():
    items = pysrt.from_string(transcript_to_srt(transcript()))
    assert [item.text for item in items] == [
        "<i>Rain.</i>",
        "Kenzaki: Wait!",
        "Hajime: Go <away> & stay.",
        "（剣崎）待て！",
    ]
    assert items[0].start.ordinal == 0
    assert items[1].start.ordinal == 2000
    assert items[3].start.ordinal == 32000
    assert all(item.duration.ordinal >= MIN_DISPLAY_MS for item in items)


def test_exported_srt_imports_with_its_speakers(tmp_path):
    path = write(tmp_path, "show.srt", transcript_to_srt(transcript()))
    scene = read_subtitles(path)
    assert [line.speaker for line in scene.lines[:3]] == [NARRATOR, "kenzaki", "hajime"]
    assert scene.speaker_names["kenzaki"] == "Kenzaki"


def test_vtt_export_names_voices_and_escapes_markup():
    text = transcript_to_vtt(transcript())
    assert text.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:")
    assert "<v Hajime>Go &lt;away&gt; &amp; stay.</v>" in text
    assert "00:00:32.000 --> 00:00:33.500\n<v 剣崎>待て！</v>" in text


def test_fountain_export_reads_back_as_the_same_lines(tmp_path):
    text = transcript_to_fountain(
        transcript(),
        title="Rain",
        heading="EXT. BUS SHELTER - NIGHT",
        synopsis="Two Riders wait.",
        task="",
    )
    (scene,) = read_fountain(write(tmp_path, "rain.fountain", text))
    assert scene.title == "Rain"
    assert scene.heading == "Bus Shelter, night. Two Riders wait."
    assert [(ln.speaker, ln.emotion, ln.direction, ln.text) for ln in scene.lines] == [
        (NARRATOR, "calm", "", "Rain."),
        ("kenzaki", "determination", "", "Wait!"),
        ("hajime", "anger", "turns", "Go <away> & stay."),
        (scene.lines[3].speaker, "fear", "", "待て！"),
    ]
    assert scene.speaker_names[scene.lines[3].speaker] == "剣崎"


def test_a_heading_that_is_not_a_scene_heading_is_forced():
    text = transcript_to_fountain([], title="T", heading="The roof of BOARD")
    assert "\n\n.The roof of BOARD" in text


def test_a_corpus_scene_exported_as_fountain_reads_back(tmp_path):
    (scene,) = read_fountain(write(tmp_path, "a.fountain", FOUNTAIN.split("INT.")[0]))
    lines = [
        TranscriptLine(n, scene.speaker_names.get(ln.speaker, ""), ln.text, ln.emotion)
        for n, ln in enumerate(scene.lines)
    ]
    text = transcript_to_fountain(lines, title=scene.title, heading="EXT. X - DAY")
    (back,) = read_fountain(write(tmp_path, "b.fountain", text))
    assert [(ln.speaker, ln.text) for ln in back.lines] == [
        (ln.speaker, ln.text) for ln in scene.lines
    ]
