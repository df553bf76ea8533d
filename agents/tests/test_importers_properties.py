"""Property tests: no input makes a reader fail with anything but DatasetError, and
random scenes survive export and import."""

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.promptbook import EMOTIONS, EOT_TOKEN, NARRATOR
from agents.training.exporters import scenes_to_character_llm, scenes_to_xtuner
from agents.training.importers import (
    DatasetError,
    ImportedScene,
    SourceLine,
    load_speaker_map,
    read_card,
    read_character_llm,
    read_chatharuhi,
    read_dataset,
    read_fountain,
    read_subtitles,
    read_xtuner,
)
from agents.training.importers.base import NARRATOR_NAMES, name_key, tidy

READERS = [
    read_subtitles,
    read_xtuner,
    read_character_llm,
    read_chatharuhi,
    read_fountain,
    read_card,
    read_dataset,
    load_speaker_map,
]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
texts = st.text(max_size=40)
turns = st.fixed_dictionaries(
    {"input": texts, "output": texts}, optional={"system": texts}
)
xtuner_records = st.fixed_dictionaries(
    {"conversation": st.lists(turns | json_values, max_size=4)}
)
character_llm_records = st.fixed_dictionaries(
    {
        "prompt": texts,
        "output": st.lists(
            st.tuples(texts, texts, texts).map(lambda t: f"{t[0]} ({t[1]}): {t[2]}"),
            max_size=4,
        ).map(lambda turns: "".join(t + EOT_TOKEN + "\n" for t in turns)),
    },
    optional={"source": texts | json_values},
)
card_records = st.fixed_dictionaries(
    {"spec": st.just("chara_card_v2"), "spec_version": st.just("2.0")},
    optional={
        "data": st.dictionaries(
            st.sampled_from(["name", "tags", "extensions", "first_mes", "other"]),
            json_values,
        )
    },
)


def feed(reader, name: str, data: bytes) -> None:
    """Run `reader` on `data` saved as `name`; only DatasetError may escape."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        try:
            reader(path)
        except DatasetError as error:
            assert str(error).startswith(str(path))


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
@SETTINGS
@given(data=st.binary(max_size=600))
def test_random_bytes_raise_only_dataset_errors(reader, data):
    feed(reader, "random.txt", data)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text_raises_only_dataset_errors(reader, text):
    feed(reader, "random.txt", text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(
    ("reader", "records"),
    [
        (read_xtuner, xtuner_records),
        (read_character_llm, character_llm_records),
        (read_dataset, xtuner_records | character_llm_records),
        (read_xtuner, json_values),
        (read_character_llm, json_values),
    ],
    ids=["xtuner", "character-llm", "detected", "xtuner-any", "character-llm-any"],
)
@SETTINGS
@given(data=st.data())
def test_random_records_raise_only_dataset_errors(reader, records, data):
    values = data.draw(st.lists(records, min_size=1, max_size=4))
    text = "".join(json.dumps(value) + "\n" for value in values)
    feed(reader, "records.jsonl", text.encode())


@SETTINGS
@given(card=card_records | json_values)
def test_random_cards_raise_only_dataset_errors(card):
    feed(read_card, "card.json", json.dumps(card).encode())


timings = st.integers(0, 10**7).map(
    lambda ms: (
        f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},"
        f"{ms % 1000:03d}"
    )
)


@SETTINGS
@given(
    items=st.lists(
        st.tuples(timings, timings, st.lists(texts, min_size=1, max_size=3)),
        max_size=5,
    )
)
def test_random_well_formed_subtitles_raise_only_dataset_errors(items):
    text = "\n".join(
        f"{n}\n{start} --> {end}\n" + "\n".join(rows) + "\n"
        for n, (start, end, rows) in enumerate(items, 1)
    )
    feed(read_subtitles, "random.srt", text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(
    rows=st.lists(
        st.one_of(
            st.sampled_from(["INT. LAB - DAY", "KENZAKI", "(joy)", "(joy; sits)", "="]),
            texts,
        ),
        max_size=12,
    )
)
def test_random_screenplays_raise_only_dataset_errors(rows):
    feed(read_fountain, "random.fountain", "\n".join(rows).encode("utf-8", "replace"))


# Round trips --------------------------------------------------------------------

words = st.text(
    alphabet=st.characters(
        categories=["L", "N", "P", "Zs"], exclude_characters="|()（）[]<>"
    ),
    min_size=1,
    max_size=30,
).map(tidy)
spoken = words.filter(lambda w: w and not w.startswith(("[", "<|")))
names = (
    st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=10)
    .map(tidy)
    .filter(lambda n: n and name_key(n) not in NARRATOR_NAMES | {"narrator"})
)
directions = words.filter(lambda d: d.split(";")[0].strip().lower() not in EMOTIONS)


@st.composite
def scenes(draw) -> ImportedScene:
    cast = draw(
        st.lists(names, min_size=1, max_size=3, unique_by=name_key).map(
            lambda found: {f"speaker-{n}": name for n, name in enumerate(found)}
        )
    )
    lines = draw(
        st.lists(
            st.builds(
                SourceLine,
                speaker=st.sampled_from([*cast, NARRATOR]),
                text=spoken,
                emotion=st.sampled_from(EMOTIONS),
                direction=st.just("") | directions,
                emotion_given=st.booleans(),
            ),
            min_size=1,
            max_size=6,
        )
    )
    for line in lines:
        line.emotion = line.emotion if line.emotion_given else "calm"
    return ImportedScene(
        title=draw(words.filter(bool)),
        heading=draw(words),
        task=draw(st.just("") | words),
        kind=draw(st.sampled_from(["world", "council"])),
        lines=lines,
        speaker_names=cast,
    )


def exported(reader, text: str) -> list:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "scenes.jsonl"
        path.write_text(text, "utf-8")
        return reader(path)


@pytest.mark.parametrize(
    ("export", "read"),
    [(scenes_to_xtuner, read_xtuner), (scenes_to_character_llm, read_character_llm)],
    ids=["xtuner", "character-llm"],
)
@SETTINGS
@given(originals=st.lists(scenes(), min_size=1, max_size=3))
def test_random_scenes_survive_export_and_import(export, read, originals):
    back = exported(read, export(originals))
    for original, scene in zip(originals, back, strict=True):
        assert (scene.title, scene.heading, scene.task, scene.kind) == (
            original.title,
            original.heading,
            original.task,
            original.kind,
        )
        assert scene.lines == original.lines
        assert scene.speaker_names == original.speaker_names
