"""Tests of the train_model, evaluate_model and finetune management commands."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agents.promptbook import NARRATOR
from agents.training.dataset import DialogueScene
from agents.training.toy import toy_scenes


def write_fountain(scene: DialogueScene, path: Path) -> None:
    """Write `scene` as a one-scene Fountain file in the corpus's layout."""
    place, _, synopsis = scene.heading.partition(". ")
    blocks = [f"Title: {scene.title}\nKind: {scene.kind}\nTask: {scene.task}"]
    blocks += [place, f"= {synopsis}"]
    for line in scene.lines:
        if line.speaker == NARRATOR:
            blocks.append(line.text)
        else:
            paren = (
                f"{line.emotion}; {line.direction}" if line.direction else line.emotion
            )
            blocks.append(f"{line.speaker.upper()}\n({paren})\n{line.text}")
    path.write_text("\n\n".join(blocks) + "\n")


def train_tiny(out: Path, corpus: Path, *extra: str) -> str:
    """Run `train_model --preset tiny` into `out` and return what it printed."""
    stdout = io.StringIO()
    call_command(
        "train_model",
        "--preset",
        "tiny",
        "--out",
        str(out),
        "--corpus",
        str(corpus),
        "--no-progress",
        *extra,
        stdout=stdout,
    )
    return stdout.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for number, scene in enumerate(toy_scenes()):
        write_fountain(scene, folder / f"scene-{number:02d}.fountain")
    return folder


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("tiny_model")
    return out, train_tiny(out, corpus)


def test_train_model_trains_the_tiny_preset_on_a_corpus(trained):
    out, printed = trained

    record = json.loads((out / "training.json").read_text())
    assert record["finished"] and record["steps"] == 60
    assert len(record["train_titles"]) + len(record["heldout_titles"]) == 12
    assert "12 scenes" in printed and "Trained" in printed and str(out) in printed
    assert f"from step {record['shipped_step']}." in printed  # what ships, said
    reranker = json.loads((out / "reranker" / "reranker.json").read_text())
    assert reranker["titles"] == sorted(record["train_titles"])
    assert "Reranker fitted" in printed


def test_build_reranker_fits_one_beside_an_existing_model(trained, corpus):
    out, _ = trained
    (out / "reranker" / "reranker.json").unlink()
    stdout = io.StringIO()

    call_command(
        "build_reranker", "--model", str(out), "--corpus", str(corpus), stdout=stdout
    )

    record = json.loads((out / "training.json").read_text())
    reranker = json.loads((out / "reranker" / "reranker.json").read_text())
    assert reranker["titles"] == sorted(record["train_titles"])
    assert f"saved in {out / 'reranker'}" in stdout.getvalue()


def test_build_reranker_explains_a_missing_model(corpus, tmp_path):
    with pytest.raises(CommandError, match="train_model"):
        call_command(
            "build_reranker", "--model", str(tmp_path), "--corpus", str(corpus)
        )


def test_train_model_explains_what_is_missing(corpus, tmp_path):
    with pytest.raises(CommandError, match="--out"):
        call_command("train_model", "--preset", "tiny", "--corpus", str(corpus))
    with pytest.raises(CommandError, match="no .fountain files"):
        call_command(
            "train_model",
            "--preset",
            "tiny",
            "--out",
            str(tmp_path),
            "--corpus",
            str(tmp_path),
        )


def test_train_model_resume_of_a_finished_run_changes_nothing(trained, corpus):
    out, _ = trained
    before = (out / "model.safetensors").read_bytes()

    printed = train_tiny(out, corpus, "--resume")

    assert (out / "model.safetensors").read_bytes() == before
    assert "for 60 steps" in printed


def test_evaluate_model_writes_the_reports(trained, corpus, tmp_path):
    out, _ = trained
    stdout = io.StringIO()

    call_command(
        "evaluate_model",
        "--model",
        str(out),
        "--out",
        str(tmp_path),
        "--corpus",
        str(corpus),
        "--samples",
        "3",
        "--council-problems",
        "2",
        stdout=stdout,
    )

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["format"]["samples"] == 3
    # two of the held-out problems, each put to the four riders as the council asks
    assert report["council"]["problems"] == 2 and report["council"]["answers"] == 8
    assert report["reranking"]["reranker"] == "saved with the model"
    assert report["reranking"]["with_reranking"]["best_of"] == 4
    assert "| perplexity, model (held out) |" in stdout.getvalue()
    assert (tmp_path / "report.md").exists()


def test_finetune_trains_an_adapter_for_chosen_characters(trained, corpus, tmp_path):
    base, _ = trained
    stdout = io.StringIO()

    call_command(
        "finetune",
        "--base",
        str(base),
        "--out",
        str(tmp_path),
        "--corpus",
        str(corpus),
        "--characters",
        "kenzaki",
        "hajime",
        "--max-steps",
        "2",
        "--no-progress",
        stdout=stdout,
    )

    summary = json.loads((tmp_path / "finetune.json").read_text())
    assert summary["steps"] == 2 and summary["config"]["characters"] == [
        "kenzaki",
        "hajime",
    ]
    assert (tmp_path / "adapter_model.safetensors").exists()
    assert "Adapter in" in stdout.getvalue()


def test_finetune_rejects_characters_with_data_and_unknown_characters(corpus, tmp_path):
    with pytest.raises(CommandError, match="--characters picks lines"):
        call_command(
            "finetune",
            "--base",
            str(tmp_path),
            "--out",
            str(tmp_path),
            "--characters",
            "kenzaki",
            "--data",
            str(tmp_path / "x.jsonl"),
        )
    with pytest.raises(CommandError, match="no lines by nobody"):
        call_command(
            "finetune",
            "--base",
            str(tmp_path),
            "--out",
            str(tmp_path),
            "--corpus",
            str(corpus),
            "--characters",
            "nobody",
        )


def test_evaluate_model_names_a_bad_problems_file(trained, corpus, tmp_path):
    out, _ = trained
    problems = tmp_path / "problems.json"
    problems.write_text('{"problems": [{"task": "Only one?"}]}')

    with pytest.raises(CommandError, match="problems.json: expected"):
        call_command(
            "evaluate_model",
            "--model",
            str(out),
            "--out",
            str(tmp_path / "report"),
            "--corpus",
            str(corpus),
            "--problems",
            str(problems),
        )
    assert not (tmp_path / "report").exists()


def test_train_model_finishes_a_run_its_time_limit_stopped(trained, corpus, tmp_path):
    with pytest.raises(CommandError, match="in minutes, 0 for no limit; got -1"):
        train_tiny(tmp_path, corpus, "--time-limit", "-1")
    printed = train_tiny(tmp_path, corpus, "--time-limit", "0.000001")
    assert "stopped at its time limit" in printed and "--time-limit" in printed
    assert not json.loads((tmp_path / "training.json").read_text())["finished"]

    printed = train_tiny(tmp_path, corpus, "--resume", "--time-limit", "0")

    record = json.loads((tmp_path / "training.json").read_text())
    assert record["finished"] and record["steps"] == 60 and "finished" in printed
    out, _ = trained
    assert (tmp_path / "model.safetensors").read_bytes() == (
        out / "model.safetensors"
    ).read_bytes()
