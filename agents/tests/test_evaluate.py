"""Tests of the evaluation report over held-out scenes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from agents.promptbook import Cue
from agents.tests.test_training import TINY, quiet
from agents.training.evaluate import (
    EvalConfig,
    evaluate_model,
    heldout_split,
    load_problems,
)
from agents.training.similarity import follows, load_sentence_model, on_topic
from agents.training.toy import toy_scenes
from agents.training.train import train

FAST = EvalConfig(samples=6, council_problems=2, max_new_tokens=24, best_of=2)
PROBLEMS = [
    "How should a ferry company warn passengers about fog delays?",
    "How can a choir fill the empty seats at its spring concert?",
    "What should a bakery do when its oven breaks before the holidays?",
]
# two riders asked each problem; FAST keeps the first two problems: four answers
COUNCIL = [
    Cue(rider, "The council meets.", task, [])
    for task in PROBLEMS
    for rider in ("kenzaki", "mutsuki")
]


@pytest.fixture(scope="module")
def scenes():
    return toy_scenes()


@pytest.fixture(scope="module")
def model_dir(scenes, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("evaluated")
    train(replace(TINY, max_steps=40), scenes, out, progress=False, log=quiet)
    return out


@pytest.fixture(scope="module")
def report(model_dir, scenes, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("report")
    report = evaluate_model(
        model_dir, scenes, FAST, council_cues=COUNCIL, out_dir=out, log=quiet
    )
    return report, out


def share(value) -> bool:
    return value is not None and 0.0 <= value <= 1.0


def test_evaluation_reports_every_metric_within_its_range(report):
    result, _ = report

    perplexity = result["perplexity"]
    assert 1 < perplexity["model"] < 400 and 1 < perplexity["ngram"] < 400
    assert perplexity["target_tokens"] > 0
    assert share(result["format"]["valid"]) and result["format"]["samples"] == 6
    assert share(result["speaker_id"]["generated"])
    assert result["speaker_id"]["real_heldout"] > 0.9  # the toy voices are distinct
    assert all(share(v) for v in result["rouge_l"].values())
    assert all(0 <= v <= 100 for v in result["bleu"].values())
    assert all(share(v) for v in result["distinct"].values())
    assert all(share(v) for v in result["copying"].values())
    assert result["speed"]["first_token_ms"] > 0 and result["speed"]["tokens_per_s"] > 0
    assert share(result["council"]["on_topic"]) and result["council"]["answers"] == 4
    assert result["council"]["problems"] == 2 and result["council"]["chance"] == 0.5
    following = result["following"]
    assert share(following["generated"]) and share(following["real"])
    assert following["pairs"] == 6 and following["chance"] == 0.5


def test_evaluation_writes_json_and_markdown_reports(report):
    result, out = report

    assert json.loads((out / "report.json").read_text()) == json.loads(
        json.dumps(result)
    )
    page = (out / "report.md").read_text()
    for row in (
        "perplexity, model",
        "trigram baseline",
        "format valid",
        "speaker ID",
        "ROUGE-L",
        "BLEU",
        "distinct-1",
        "copied 8-gram",
        "first token",
        "tokens/s",
        "council answers on topic",
        "follows the line before",
    ):
        assert row in page
    assert "nan" not in page


def test_the_report_gives_stage_lines_without_and_with_reranking(report):
    result, out = report
    reranking = result["reranking"]
    one, best = reranking["without_reranking"], reranking["with_reranking"]

    assert reranking["reranker"] == "fitted on the training split"
    assert (one["best_of"], best["best_of"]) == (1, 2)
    assert reranking["samples"] == 6 and reranking["council_answers"] == 4
    for section in (one, best):
        for key in ("format_valid", "speaker_id", "copied_8gram_share"):
            assert share(section[key])
        assert share(section["distinct_2"]) and share(section["council_on_topic"])
        assert share(section["council_on_topic_without_task_words"])
        assert share(section["follows_line_before"])
        assert section["latency_ms"] > 0
    # a re-ranked line shows only once every candidate is drawn and scored
    assert best["first_token_ms"] == best["latency_ms"]
    assert one["first_token_ms"] <= one["latency_ms"]
    page = (out / "report.md").read_text()
    assert "| without re-ranking (N=1) | with re-ranking (best of 2) |" in page
    assert "speaker ID / ceiling" in page


def test_evaluation_uses_the_split_recorded_at_training(model_dir, scenes):
    record = json.loads((model_dir / "training.json").read_text())

    train_scenes, held = heldout_split(model_dir, list(reversed(scenes)), FAST)

    assert sorted(s.title for s in held) == sorted(record["heldout_titles"])
    assert sorted(s.title for s in train_scenes) == sorted(record["train_titles"])


def test_evaluation_explains_a_missing_model(tmp_path, scenes):
    with pytest.raises(FileNotFoundError, match="train_model"):
        evaluate_model(tmp_path, scenes, FAST, log=quiet)


def test_council_answers_count_when_closest_to_their_own_task_and_not_echoes():
    tasks = [
        "How can a small bakery welcome a shy new baker?",
        "How can a tired night nurse keep her sleep on a rotating schedule?",
    ]
    answers = [
        "Give the new baker a quiet mentor and let her share her bread recipes.",
        "Blackout curtains and the same bedtime after every night shift.",
        "A small bakery welcome a shy new baker, that is the question.",
        "Buy her blackout curtains.",
    ]

    verdicts = on_topic(load_sentence_model(), answers, [0, 1, 0, 0], tasks)

    assert verdicts == [True, True, False, False]


def test_a_line_follows_when_nearer_the_line_said_to_it_than_to_the_others():
    encoder = load_sentence_model()
    before = [
        "The Undead has gone down into the subway tunnel.",
        "Who ate the last of the curry?",
        "The rent for the cafe is due tomorrow.",
    ]
    lines = [
        "Then we follow it into the tunnel before the first train.",
        "Not me. I only had rice and pickles.",
        "I'll ask the landlord to give us one more week.",
    ]

    assert follows(encoder, lines, before) == 1.0
    assert follows(encoder, lines, before[1:] + before[:1]) <= 0.5  # misplaced
    same_line = ["Yes.", "Yes."]  # one line after both cues: one pair won, one lost
    assert follows(encoder, same_line, before[:2]) == 0.5
    assert follows(encoder, lines[:1], before[:1]) is None


def test_problems_load_from_json_and_bad_files_say_what_is_wrong(tmp_path):
    good = tmp_path / "problems.json"
    good.write_text(json.dumps({"problems": [{"task": t} for t in PROBLEMS]}))
    assert load_problems(good) == PROBLEMS

    cases = {
        "{not json": "line 1, column 2: invalid JSON",
        json.dumps({"problems": [{"task": "Only one?"}]}): "two or more",
        json.dumps({"problems": [{"task": "A?"}, {"task": "  "}]}): (
            r"problems\[1\]: field task"
        ),
        json.dumps({"problems": [{"task": "A?"}, {"task": "A?"}]}): "duplicate",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_problems(bad)
    with pytest.raises(ValueError, match="no such problems file"):
        load_problems(tmp_path / "missing.json")


def test_the_shipped_council_problems_are_held_out_of_the_corpus():
    from agents.management.commands.evaluate_model import PROBLEMS_FILE
    from agents.training.corpus import load_corpus
    from agents.training.metrics import echoes

    problems = load_problems(PROBLEMS_FILE)
    scenes = load_corpus()
    tasks = {scene.task for scene in scenes}

    assert len(problems) == 20
    assert not tasks.intersection(problems)
    for scene in scenes:
        for problem in problems:
            assert not echoes(scene.task, problem, 6), (scene.title, problem)


def test_an_answer_without_its_problem_s_words_keeps_only_its_own():
    from agents.training.similarity import without_task_words

    task = "How should a Ferry company warn its passengers about fog?"
    answer = "Warn the PASSENGERS early: fog horns, a ferry bell and a notice board."

    # words of four letters or more: "fog" stays, like "a" and "its"
    assert without_task_words(answer, task) == (
        "the early: fog horns, a bell and a notice board."
    )
