"""The shipped corpus: every scene parses, every line is known, and the bars hold."""

import json

import pytest

from agents.promptbook import EMOTIONS, NARRATOR
from agents.training import corpus_figures
from agents.training.corpus import CORPUS_DIR, load_corpus
from stageplay.conf import stage_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def scenes():
    return load_corpus()


def test_every_corpus_line_has_a_known_speaker_and_emotion(scenes):
    with open(stage_settings.CAST_FILE, encoding="utf-8") as fh:
        cast = {c["slug"] for c in json.load(fh)["characters"]}
    for scene in scenes:
        assert scene.title and scene.kind in ("world", "council"), scene.source
        assert scene.lines, scene.source
        for line in scene.lines:
            assert line.speaker in cast | {NARRATOR}, (scene.source, line.speaker)
            assert line.emotion in EMOTIONS, (scene.source, line.text)
            assert line.text.strip(), scene.source
        if scene.kind == "council":
            assert scene.task.endswith("?"), scene.source


def test_corpus_figures_reach_their_bars(capsys):
    assert corpus_figures.main(["--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["bars_missed"] == []
    assert figures["scenes"] >= 150 and figures["dialogue_lines"] >= 8000
    assert figures["core_lines_min"] >= 1500
    assert figures["distinct_2"] >= 0.45 and figures["max_repeats"] <= 3


def test_corpus_figures_report_a_missed_bar(tmp_path, capsys):
    source = sorted(CORPUS_DIR.glob("*.fountain"))[0]
    (tmp_path / "one.fountain").write_text(source.read_text("utf-8"), "utf-8")
    assert corpus_figures.main(["--corpus", str(tmp_path)]) == 1
    assert "scenes < 150" in capsys.readouterr().out


def test_corpus_figures_refuse_two_scenes_with_one_title(tmp_path, capsys):
    # the held-out split goes by title, so two scenes with one title would travel
    # together and the report would count them as one
    source = sorted(CORPUS_DIR.glob("*.fountain"))[0]
    for name in ("one.fountain", "two.fountain"):
        (tmp_path / name).write_text(source.read_text("utf-8"), "utf-8")
    assert corpus_figures.main(["--corpus", str(tmp_path)]) == 1
    title = load_corpus(tmp_path)[0].title
    assert f"titles used by more than one scene: {title}" in capsys.readouterr().out
