"""The shipped stage model: it loads, speaks for each core character, and its report holds."""

import json

import pytest

from agents.backends import GenerationRequest
from agents.backends.embedded import EmbeddedBackend
from agents.promptbook import EMOTIONS, Cue, parse_line
from agents.training.corpus import load_corpus
from agents.training.evaluate import EvalConfig, evaluate_model
from agents.training.presets import STAGE_MODEL_DIR

CORE = ("kenzaki", "tachibana", "hajime", "mutsuki")


@pytest.fixture(scope="module")
def stage():
    return EmbeddedBackend(path=STAGE_MODEL_DIR)


def test_the_shipped_model_fits_its_size_budget():
    weights = STAGE_MODEL_DIR / "model.safetensors"
    assert weights.exists(), "the stage model must ship in agents/stage_model/"
    shipped = [
        f
        for f in STAGE_MODEL_DIR.rglob("*")
        if f.is_file() and f.name != "checkpoint.pt"  # resumable state, not shipped
    ]
    size = sum(f.stat().st_size for f in shipped)
    assert size <= 60 * 1024 * 1024


@pytest.mark.parametrize("speaker", CORE)
def test_the_shipped_model_speaks_a_well_formed_line_for_each_core_character(
    stage, speaker
):
    cue = Cue(
        speaker=speaker,
        heading="INT. CAFE JACARANDA - EVENING. The Riders regroup after a fight.",
        lines=[],
    )
    text = stage.generate(GenerationRequest(cue=cue, seed=7, max_new_tokens=60)).text
    parsed = parse_line(text)
    assert parsed.emotion in EMOTIONS
    assert len(parsed.text.split()) >= 2
    assert "<|" not in text


def test_the_committed_report_matches_a_fresh_evaluation():
    committed = json.loads(
        (STAGE_MODEL_DIR / "evaluation" / "report.json").read_text("utf-8")
    )
    fresh = evaluate_model(
        STAGE_MODEL_DIR,
        load_corpus(),
        EvalConfig(samples=4, best_of=2, seed=0),
        log=lambda _: None,
    )
    for key in ("model", "ngram"):
        assert fresh["perplexity"][key] == pytest.approx(
            committed["perplexity"][key], rel=1e-4
        )
    assert fresh["scenes"] == committed["scenes"]
    assert 0.0 <= fresh["format"]["valid"] <= 1.0
