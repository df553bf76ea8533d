"""Importing SubRip subtitles: strict parsing, encodings, speakers, the classifier."""

import json

import pytest

from agents.promptbook import NARRATOR
from agents.tests.data.samples import SRT_ENGLISH, SRT_JAPANESE, write
from agents.training.importers import (
    MAX_FILE_BYTES,
    DatasetError,
    ImportedScene,
    SourceLine,
    attribute_speakers,
    load_speaker_map,
    read_subtitles,
)


def srt(*items: tuple[str, str]) -> str:
    """Return subtitles for (timing, text) pairs, numbered from 1."""
    return "\n".join(
        f"{n}\n{timing}\n{text}\n" for n, (timing, text) in enumerate(items, 1)
    )


def test_english_subtitles_become_one_scene_with_named_speakers(tmp_path):
    scene = read_subtitles(write(tmp_path, "ep01.srt", SRT_ENGLISH))
    said = [(line.speaker, line.text) for line in scene.lines]
    assert said == [
        ("kenzaki", "Wait! Don't go in there alone."),
        ("hajime", "Stay out of my way."),
        ("kenzaki", "Not a chance."),
        (NARRATOR, "[door slams]"),
        (NARRATOR, "We should split up."),
    ]
    assert scene.title == "ep01"
    assert scene.speaker_names == {"kenzaki": "KENZAKI", "hajime": "HAJIME"}


def test_subtitle_timings_are_kept_in_milliseconds(tmp_path):
    scene = read_subtitles(write(tmp_path, "ep01.srt", SRT_ENGLISH))
    assert (scene.lines[0].start_ms, scene.lines[0].end_ms) == (1000, 2500)
    assert (scene.lines[2].start_ms, scene.lines[2].end_ms) == (3000, 5000)


def test_subtitles_have_no_emotion_so_calm_is_marked_as_a_default(tmp_path):
    scene = read_subtitles(write(tmp_path, "ep01.srt", SRT_ENGLISH))
    assert {line.emotion for line in scene.lines} == {"calm"}
    assert not any(line.emotion_given for line in scene.lines)


def test_an_unnamed_dash_line_goes_to_the_other_speaker_and_awaits_review(tmp_path):
    scene = read_subtitles(write(tmp_path, "ep01.srt", SRT_ENGLISH))
    answer = scene.lines[2]
    assert (answer.speaker, answer.attribution, answer.needs_review) == (
        "kenzaki",
        "dashes",
        True,
    )
    assert not scene.lines[0].needs_review


def test_japanese_shift_jis_subtitles_keep_their_text_and_speakers(tmp_path):
    path = write(tmp_path, "jp.srt", SRT_JAPANESE, encoding="cp932")
    scene = read_subtitles(path)
    assert [line.text for line in scene.lines] == [
        "待ってくれ！",
        "うるさい。もう帰れ。",
        "剣崎、落ち着け。",
    ]
    assert list(scene.speaker_names.values()) == ["剣崎", "始", "橘"]
    assert all(line.speaker.startswith("speaker-") for line in scene.lines)


def test_a_speaker_map_gives_readable_slugs(tmp_path):
    mapping = write(
        tmp_path, "cast.txt", "# cast\n剣崎=kenzaki\n始 = hajime\n橘=tachibana\n"
    )
    path = write(tmp_path, "jp.srt", SRT_JAPANESE)
    scene = read_subtitles(path, speaker_map=load_speaker_map(mapping))
    assert [line.speaker for line in scene.lines] == ["kenzaki", "hajime", "tachibana"]
    assert scene.speaker_names["kenzaki"] == "剣崎"


def test_a_json_speaker_map_is_read_too(tmp_path):
    mapping = write(tmp_path, "cast.json", json.dumps({"KENZAKI": "kenzaki"}))
    assert load_speaker_map(mapping) == {"kenzaki": "kenzaki"}


def test_a_name_missing_from_the_speaker_map_is_an_error(tmp_path):
    mapping = write(tmp_path, "cast.txt", "剣崎=kenzaki\n")
    path = write(tmp_path, "jp.srt", SRT_JAPANESE)
    with pytest.raises(DatasetError) as error:
        read_subtitles(path, speaker_map=load_speaker_map(mapping))
    assert str(error.value).startswith(f"{path}: line 5: unknown speaker '始'")


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("剣崎=Kenzaki Kazuma\n", "line 1"),
        ("just a name\n", "line 1"),
        ('{"剣崎": 3}', "key '剣崎'"),
        ("剣崎=kenzaki\n剣崎=hajime\n", "line 2"),
    ],
)
def test_a_bad_speaker_map_names_the_bad_entry(tmp_path, content, where):
    mapping = write(tmp_path, "cast.txt", content)
    with pytest.raises(DatasetError) as error:
        load_speaker_map(mapping)
    assert error.value.where == where


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (srt(("00:00:01,000 -> 00:00:02,000", "Hi")), "line 2", "malformed timing"),
        (srt(("00:00:01 --> 00:00:02,000", "Hi")), "line 2", "malformed timing"),
        (srt(("00:61:01,000 --> 00:62:02,000", "Hi")), "line 2", "run to 59"),
        (
            srt(("00:00:01,000 --> 00:00:02,000", "Hi"))
            + "\n2\n00:00:05,000 --> 00:00:04,000\nBack\n",
            "line 6",
            "ends before it starts",
        ),
        ("00:00:01,000 --> 00:00:02,000\nHi\n", "line 1", "expected a subtitle number"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nHi\n\nstray text\n",
            "line 5",
            "expected a subtitle number",
        ),
        ("1\n", "line 1", "without a timing"),
    ],
)
def test_malformed_subtitles_are_errors_naming_the_line(
    tmp_path, content, where, reason
):
    path = write(tmp_path, "bad.srt", content)
    with pytest.raises(DatasetError) as error:
        read_subtitles(path)
    assert error.value.where == where
    assert reason in error.value.reason
    assert str(error.value).startswith(str(path))


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n"])
def test_an_empty_subtitle_file_is_an_error(tmp_path, content):
    with pytest.raises(DatasetError, match="empty"):
        read_subtitles(write(tmp_path, "empty.srt", content))


def test_a_binary_file_is_an_error(tmp_path):
    path = write(tmp_path, "movie.srt", bytes(range(256)) * 4)
    with pytest.raises(DatasetError, match="binary"):
        read_subtitles(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.srt"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(DatasetError, match="over the 20 MB limit"):
        read_subtitles(path)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        read_subtitles(tmp_path / "nowhere.srt")


def test_an_explicit_encoding_overrides_detection(tmp_path):
    text = srt(("00:00:01,000 --> 00:00:02,000", "Café"))
    path = write(tmp_path, "latin.srt", text, encoding="utf-8")
    assert read_subtitles(path).lines[0].text == "Café"
    assert read_subtitles(path, encoding="cp1252").lines[0].text == "CafÃ©"


def test_a_wrongly_declared_encoding_is_an_error_naming_the_line(tmp_path):
    text = srt(
        ("00:00:01,000 --> 00:00:02,000", "Hi"),
        ("00:00:03,000 --> 00:00:04,000", "Café"),
    )
    path = write(tmp_path, "mixed.srt", text, encoding="cp1252")
    with pytest.raises(DatasetError) as error:
        read_subtitles(path, encoding="utf-8")
    assert error.value.where == "line 7"


def voice(slug: str, texts: list[str]) -> list[SourceLine]:
    return [SourceLine(speaker=slug, text=t, emotion_given=False) for t in texts]


def unattributed(text: str) -> SourceLine:
    return SourceLine(
        speaker=NARRATOR,
        text=text,
        kind="narration",
        attribution="",
        emotion_given=False,
    )


KENZAKI = [f"I'll protect everyone, Haruka-san! Number {n}!" for n in range(6)]
HAJIME = [f"...leave me alone. I said no. ({n})" for n in range(6)]


def test_the_classifier_attributes_unnamed_lines_with_a_confidence():
    scene = ImportedScene(
        title="ep",
        lines=voice("kenzaki", KENZAKI)
        + voice("hajime", HAJIME)
        + [
            unattributed("[door slams]"),
            unattributed("I'll protect you, Haruka-san!"),
            unattributed("...leave me."),
        ],
        speaker_names={"kenzaki": "KENZAKI", "hajime": "HAJIME"},
    )
    assert attribute_speakers([scene]) == 2
    sound, *guessed = scene.lines[-3:]
    assert sound.speaker == NARRATOR
    assert [line.speaker for line in guessed] == ["kenzaki", "hajime"]
    assert all(0.5 <= line.confidence <= 1 for line in guessed)
    assert all(line.needs_review and line.kind == "dialogue" for line in guessed)


def test_the_classifier_needs_two_speakers_with_enough_lines():
    scene = ImportedScene(
        title="ep",
        lines=voice("kenzaki", KENZAKI)
        + voice("hajime", HAJIME[:2])
        + [unattributed("Who's there?")],
    )
    assert attribute_speakers([scene]) == 0
    assert scene.lines[-1].speaker == NARRATOR
