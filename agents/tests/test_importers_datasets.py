"""Importing XTuner, Character-LLM, ChatHaruhi and Fountain files, and telling them apart."""

import json
from pathlib import Path

import pytest

from agents.promptbook import NARRATOR, OTHER_SPEAKER
from agents.tests.data.samples import (
    CARD_PROFILE,
    CHARACTER_LLM,
    CHATHARUHI,
    FOUNTAIN,
    XIYOU,
    jsonl,
    v2_card,
    write,
)
from agents.training.importers import (
    DatasetError,
    detect_format,
    read_character_llm,
    read_chatharuhi,
    read_dataset,
    read_fountain,
    read_xtuner,
)

CORPUS = sorted((Path(__file__).parents[1] / "corpus").glob("*.fountain"))


# XTuner -------------------------------------------------------------------------


def test_xtuner_role_play_records_become_scenes_of_the_role_and_others(tmp_path):
    monkey, kenzaki = read_xtuner(write(tmp_path, "xiyou.jsonl", jsonl(XIYOU)))
    assert [(line.speaker, line.text) for line in monkey.lines] == [
        (OTHER_SPEAKER, "大师兄，师父被妖怪抓走了！"),
        (monkey.lines[1].speaker, "呔！哪里来的妖怪！"),
        (monkey.lines[1].speaker, "俺老孙去也！"),
    ]
    assert monkey.speaker_names[monkey.lines[1].speaker] == "孙悟空"
    assert [line.speaker for line in kenzaki.lines] == [OTHER_SPEAKER, "kenzaki"]
    assert kenzaki.heading.startswith("You are Kenzaki")
    assert monkey.title == "xiyou #1"


def test_xtuner_accepts_a_json_array_of_records(tmp_path):
    path = write(tmp_path, "xiyou.json", json.dumps(XIYOU, ensure_ascii=False))
    assert len(read_xtuner(path)) == 2


def test_a_speaker_map_names_the_xtuner_role(tmp_path):
    path = write(tmp_path, "xiyou.jsonl", jsonl(XIYOU[:1]))
    scene = read_xtuner(path, speaker_map={"孙悟空": "wukong"})[0]
    assert scene.lines[1].speaker == "wukong"


def record_error(tmp_path, content: str, reader=read_xtuner) -> DatasetError:
    with pytest.raises(DatasetError) as error:
        reader(write(tmp_path, "bad.jsonl", content))
    return error.value


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (
            '{"conversation": [{"input": "hi", "output": "yo"}]\n',
            "line 1",
            "invalid JSON",
        ),
        (jsonl(XIYOU[:1]) + '{"conversation": [', "line 2", "truncated"),
        ('["not", "an", "object"]\n', "record 1", "must be a JSON object"),
        ('"just a string"\n', "line 1", "must be a JSON object"),
        ('{"messages": []}\n', "line 1", "missing field 'conversation'"),
        ('{"conversation": []}\n', "line 1", "non-empty list"),
        (
            '{"conversation": [{"system": "Kenzaki", "input": "hi"}]}\n',
            "line 1, turn 1",
            "missing field 'output'",
        ),
        (
            '{"conversation": [{"system": "Kenzaki", "input": 3, "output": "yo"}]}\n',
            "line 1, turn 1",
            "must be a string",
        ),
        (
            '{"conversation": [{"system": "A long description. Nobody is named.", '
            '"input": "hi", "output": "yo"}]}\n',
            "line 1",
            "names no role",
        ),
    ],
)
def test_bad_xtuner_records_are_errors_naming_the_record(
    tmp_path, content, where, reason
):
    error = record_error(tmp_path, content)
    assert error.where == where
    assert reason in error.reason


# Character-LLM ------------------------------------------------------------------


def test_character_llm_turns_become_lines_with_actions_as_directions(tmp_path):
    scene = read_character_llm(write(tmp_path, "cl.jsonl", jsonl([CHARACTER_LLM])))[0]
    said = [
        (ln.speaker, ln.emotion, ln.emotion_given, ln.direction) for ln in scene.lines
    ]
    assert said == [
        ("beethoven", "calm", False, "thinking"),
        ("student", "calm", False, ""),
        ("beethoven", "calm", False, ""),
        ("beethoven", "anger", True, "slams the lid"),
    ]
    assert scene.lines[3].text == "Not now!"
    assert scene.heading == (
        "Vienna, a rented room, night Beethoven is composing while a student visits."
    )
    assert scene.title == "seed_dialogue_7"


@pytest.mark.parametrize(
    ("record", "where", "reason"),
    [
        ({"output": "A: hi<|eot|>"}, "line 1", "missing field 'prompt'"),
        ({"prompt": "", "output": ["A: hi"]}, "line 1", "must be a string"),
        ({"prompt": "", "output": "no speaker here<|eot|>"}, "line 1, turn 1", "Name"),
        (
            {"prompt": "", "output": "A (speaking): <|eot|>"},
            "line 1, turn 1",
            "nothing",
        ),
        ({"prompt": "", "output": "<|eot|>\n"}, "line 1", "no turns"),
    ],
)
def test_bad_character_llm_records_are_errors(tmp_path, record, where, reason):
    error = record_error(tmp_path, jsonl([record]), reader=read_character_llm)
    assert error.where == where
    assert reason in error.reason


# ChatHaruhi ---------------------------------------------------------------------


def test_chatharuhi_lines_with_either_colon_are_dialogue_the_rest_narration(tmp_path):
    scene = read_chatharuhi(write(tmp_path, "haruhi.txt", CHATHARUHI))
    assert [(ln.speaker != NARRATOR, ln.text) for ln in scene.lines] == [
        (True, "俺は人を守るために戦う。"),
        (False, "夕暮れの公園に風が吹く。"),
        (True, "勝手にしろ。"),
    ]
    assert sorted(scene.speaker_names.values()) == ["剣崎", "始"]


def test_a_file_without_chatharuhi_lines_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="角色"):
        read_chatharuhi(write(tmp_path, "prose.txt", "Once upon a time.\n"))


def test_chatharuhi_speakers_missing_from_the_map_are_errors(tmp_path):
    path = write(tmp_path, "haruhi.txt", CHATHARUHI)
    with pytest.raises(DatasetError) as error:
        read_chatharuhi(path, speaker_map={"剣崎": "kenzaki"})
    assert error.value.where == "line 3"


# Fountain -----------------------------------------------------------------------


def test_every_corpus_scene_reads_with_known_emotions_and_cast():
    cast = {"kenzaki", "tachibana", "hajime", "mutsuki", "shiori", "kotaro", "amane"}
    cast |= {"haruka", "karasuma", "nozomi", "tenjoji", "sayoko", NARRATOR}
    for path in CORPUS:
        (scene,) = read_fountain(path)
        assert scene.kind in ("world", "council")
        assert {line.speaker for line in scene.lines} <= cast, path
        assert scene.heading and scene.title


def test_a_fountain_file_may_hold_several_scenes(tmp_path):
    first, second = read_fountain(write(tmp_path, "shelter.fountain", FOUNTAIN))
    assert first.title == "The Bus Shelter, scene 1"
    assert first.heading == "Bus Shelter, night. Rain traps two Riders under one roof."
    assert (first.location, first.time) == ("Bus Shelter", "night")
    assert [(ln.speaker, ln.kind) for ln in first.lines] == [
        (NARRATOR, "action"),
        ("kenzaki", "dialogue"),
        ("hajime", "dialogue"),
    ]
    kenzaki = first.lines[1]
    assert (kenzaki.emotion, kenzaki.direction, kenzaki.emotion_given) == (
        "joy",
        "grins",
        True,
    )
    assert not first.lines[2].emotion_given
    assert second.heading == "Cafe Jacaranda, morning."
    assert second.speaker_names == {"haruka": "Haruka"}


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        ("Title: X\n\nKENZAKI\n(wryly)\nHello.\n", "line 4", "unknown emotion 'wryly'"),
        ("Title: X\nKind: dream\n\nKENZAKI\nHi.\n", "line 2", "world or council"),
        ("Title: X\n\nKENZAKI\n(joy)\n", "line 4", "no speech"),
        (
            "Title: X\n\nINT. LAB - DAY\n\nINT. CAFE - NIGHT\n\nHi.\n",
            "line 3",
            "no action",
        ),
    ],
)
def test_bad_fountain_is_an_error_naming_the_line(tmp_path, content, where, reason):
    with pytest.raises(DatasetError) as error:
        read_fountain(write(tmp_path, "bad.fountain", content))
    assert error.value.where == where
    assert reason in error.value.reason


# Detection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.jsonl", jsonl(XIYOU), "xtuner"),
        ("a.json", json.dumps(XIYOU), "xtuner"),
        ("a.jsonl", jsonl([CHARACTER_LLM]), "character-llm"),
        ("a.txt", CHATHARUHI, "chatharuhi"),
        ("a.txt", FOUNTAIN, "fountain"),
        ("a.fountain", "KENZAKI\nHi.\n", "fountain"),
        ("a.json", json.dumps(v2_card(CARD_PROFILE)), "card"),
    ],
)
def test_the_format_is_detected_from_name_and_content(
    tmp_path, name, content, expected
):
    path = write(tmp_path, name, content)
    assert detect_format(path) == expected
    assert read_dataset(path).format == expected


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("a.txt", "Just some prose.\n", "pass --format"),
        ("a.srt", "1\n", "import_subtitles"),
        ("a.jsonl", '{"conversation": [', "truncated"),
    ],
)
def test_an_undetectable_format_is_an_error_saying_what_to_do(
    tmp_path, name, content, reason
):
    with pytest.raises(DatasetError, match=reason):
        detect_format(write(tmp_path, name, content))


def test_a_given_format_skips_detection(tmp_path):
    path = write(tmp_path, "a.txt", jsonl(XIYOU))
    with pytest.raises(DatasetError, match="角色"):
        read_dataset(path, "chatharuhi")
