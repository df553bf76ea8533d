"""Tests of the stage model's tokenizer, windows, split and training loop."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

import agents.training.train as training_loop
from agents.promptbook import (
    EOT_TOKEN,
    NARRATOR,
    ScriptLine,
    render_header,
    render_line,
    speaker_token,
    special_tokens,
)
from agents.training.dataset import DialogueScene
from agents.training.losses import heldout_loss
from agents.training.model import ModelConfig, llama_config
from agents.training.presets import PRESETS, get_preset
from agents.training.splits import split_scenes
from agents.training.tokenizer import train_tokenizer
from agents.training.toy import toy_scenes
from agents.training.train import (
    TrainConfig,
    TrainingError,
    cast_of,
    learning_rate,
    train,
)
from agents.training.windows import IGNORE, scene_text, scene_windows

TINY = TrainConfig(
    model=ModelConfig(
        block_size=128, n_layer=2, n_head=2, n_kv_head=2, n_embd=48, dropout=0.1
    ),
    vocab_size=400,
    holdout=0.25,
    batch_size=4,
    max_steps=16,
    learning_rate=3e-3,
    min_lr=3e-4,
    warmup_steps=4,
    eval_interval=8,
    log_interval=4,
    checkpoint_interval=8,
    keep_best=False,
)


def quiet(message: str) -> None:
    """Swallow the training log."""


def weights(directory: Path) -> dict[str, torch.Tensor]:
    """Return the saved weights of the model in `directory`."""
    return load_file(directory / "model.safetensors")


@pytest.fixture(scope="module")
def scenes() -> list[DialogueScene]:
    return toy_scenes()


@pytest.fixture(scope="module")
def tokenizer(scenes):
    return train_tokenizer([scene_text(s) for s in scenes], cast_of(scenes), 400)


@pytest.fixture(scope="module")
def trained(scenes, tmp_path_factory) -> Path:
    """Return the directory of one finished tiny run."""
    out = tmp_path_factory.mktemp("trained")
    train(TINY, scenes, out, progress=False, log=quiet)
    return out


def test_tokenizer_keeps_special_tokens_whole_and_reloads(tokenizer, scenes, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    text = scene_text(scenes[0])

    ids = reloaded(text, add_special_tokens=False)["input_ids"]

    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
    assert reloaded.decode(ids) == text
    for token in special_tokens(cast_of(scenes)):
        assert len(reloaded(token, add_special_tokens=False)["input_ids"]) == 1
    assert reloaded.pad_token == "<|pad|>" and reloaded.eos_token == EOT_TOKEN


def test_loss_mask_covers_only_the_speaking_characters_tokens(tokenizer):
    lines = [
        ScriptLine(NARRATOR, "Rain on the window."),
        ScriptLine("kenzaki", "I will protect everyone!", "determination", "stands"),
        ScriptLine("hajime", "Don't get in my way.", "anger"),
    ]
    scene = DialogueScene("Mask", "INT. CAFE - NIGHT", "How to help?", "council", lines)

    (window,) = scene_windows(tokenizer, scene, 512)

    targets = [
        i
        for i, label in zip(window.input_ids, window.labels, strict=True)
        if label != IGNORE
    ]
    spoken = [
        render_line(line).removeprefix(speaker_token(line.speaker))
        for line in lines[1:]
    ]
    assert tokenizer.decode(targets) == "".join(spoken)  # emotion, direction, text, eot
    assert tokenizer.decode(window.input_ids) == scene_text(scene)
    assert all(
        label == IGNORE or label == token
        for token, label in zip(window.input_ids, window.labels, strict=True)
    )


def test_long_scenes_are_cut_into_windows_that_each_open_with_the_header(tokenizer):
    scene = toy_scenes(1, lines_per_scene=40)[0]
    header = tokenizer(
        render_header(scene.heading, scene.task), add_special_tokens=False
    )
    whole = scene_windows(tokenizer, scene, 4096)

    windows = scene_windows(tokenizer, scene, 96)

    assert len(whole) == 1 and len(windows) > 3
    for window in windows:
        assert len(window.input_ids) <= 96
        assert window.input_ids[: len(header["input_ids"])] == header["input_ids"]
    kept = [label for w in windows for label in w.labels if label != IGNORE]
    assert kept == [label for label in whole[0].labels if label != IGNORE]


def test_held_out_split_is_by_scene_repeatable_and_covers_each_kind(scenes):
    train_a, held_a = split_scenes(scenes, 0.25, seed=7)
    train_b, held_b = split_scenes(list(reversed(scenes)), 0.25, seed=7)

    assert {s.title for s in held_a} == {s.title for s in held_b}
    assert not {s.title for s in train_a} & {s.title for s in held_a}
    assert len(train_a) + len(held_a) == len(scenes)
    assert {s.kind for s in held_a} == {"world", "council"}


def test_learning_rate_warms_up_then_decays_to_the_floor():
    config = replace(TINY, max_steps=100, warmup_steps=10)

    rates = [learning_rate(step, config) for step in range(101)]

    assert rates[0] < rates[5] < rates[9] == pytest.approx(config.learning_rate)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))
    assert rates[100] == pytest.approx(config.min_lr)


def test_tiny_training_lowers_the_heldout_loss_and_writes_the_model(trained):
    record = json.loads((trained / "training.json").read_text())
    curve = json.loads((trained / "loss_curve.json").read_text())

    vocab = len(AutoTokenizer.from_pretrained(str(trained), local_files_only=True))
    assert curve["val"][-1][1] < curve["val"][0][1]
    assert record["final_val_loss"] < math.log(vocab) - 0.5  # below a uniform guess
    assert record["steps"] == TINY.max_steps and record["seed"] == TINY.seed
    assert set(record["heldout_titles"]).isdisjoint(record["train_titles"])
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "loss_curve.png",
    ):
        assert (trained / name).stat().st_size > 0
    model = AutoModelForCausalLM.from_pretrained(str(trained), local_files_only=True)
    assert model.config.max_position_embeddings == TINY.model.block_size


def test_resume_reaches_the_same_weights_as_an_uninterrupted_run(
    trained, scenes, tmp_path
):
    train(TINY, scenes, tmp_path, until_step=8, progress=False, log=quiet)
    halfway = weights(tmp_path)

    result = train(TINY, scenes, tmp_path, resume=True, progress=False, log=quiet)

    straight, resumed = weights(trained), weights(tmp_path)
    assert not all(torch.equal(halfway[k], straight[k]) for k in straight)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    record = json.loads((trained / "training.json").read_text())
    assert result.final_val_loss == record["final_val_loss"]
    assert result.steps == TINY.max_steps and result.finished


def test_a_run_its_time_limit_stopped_resumes_with_a_larger_limit(
    trained, scenes, tmp_path
):
    limited = replace(TINY, time_limit_s=1e-6)  # spent after the first step
    cut = train(limited, scenes, tmp_path, progress=False, log=quiet)
    assert not cut.finished and cut.steps == 1

    with pytest.raises(TrainingError, match="time limit of 0s; resume with a larger"):
        train(limited, scenes, tmp_path, resume=True, progress=False, log=quiet)
    result = train(TINY, scenes, tmp_path, resume=True, progress=False, log=quiet)

    assert result.finished and result.steps == TINY.max_steps
    straight, resumed = weights(trained), weights(tmp_path)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    record = json.loads((tmp_path / "training.json").read_text())
    assert record["config"]["time_limit_s"] == 0  # the limit it finished under


def test_training_is_deterministic_with_a_seed(trained, scenes, tmp_path):
    train(TINY, scenes, tmp_path / "same", progress=False, log=quiet)
    train(replace(TINY, seed=2), scenes, tmp_path / "other", progress=False, log=quiet)

    first, again = weights(trained), weights(tmp_path / "same")
    other = weights(tmp_path / "other")
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(
        first[k].shape == other[k].shape and torch.equal(first[k], other[k])
        for k in first
    )


def test_the_last_evaluations_are_averaged_and_the_average_ships_when_better(
    trained, scenes, tmp_path, monkeypatch
):
    averaging = replace(TINY, average_last=2)  # the evaluations at steps 8 and 16
    train(averaging, scenes, tmp_path / "a", until_step=8, progress=False, log=quiet)
    at_8 = weights(tmp_path / "a")
    train(averaging, scenes, tmp_path / "a", resume=True, progress=False, log=quiet)
    at_16 = weights(trained)  # the same run without averaging

    record = json.loads((tmp_path / "a" / "training.json").read_text())
    assert record["averaged_steps"] == [8, 16]
    better = record["average_val_loss"] < record["final_val_loss"]
    assert record["shipped_average_of_steps"] == ([8, 16] if better else [])
    if not better:  # this tiny run is still learning fast: step 16 alone is better
        assert all(torch.equal(weights(tmp_path / "a")[k], at_16[k]) for k in at_16)

    # when the average scores better (here: told so), it is what ships
    calls, measured = [], training_loop.heldout_loss

    def average_scores_better(*args, **kwargs) -> float:
        calls.append(1)  # steps 8 and 16, then the average
        return measured(*args, **kwargs) - (1.0 if len(calls) == 3 else 0.0)

    monkeypatch.setattr(training_loop, "heldout_loss", average_scores_better)
    train(averaging, scenes, tmp_path / "b", progress=False, log=quiet)
    shipped = weights(tmp_path / "b")
    record = json.loads((tmp_path / "b" / "training.json").read_text())
    assert len(calls) == 3 and record["shipped_average_of_steps"] == [8, 16]
    for name, tensor in shipped.items():
        assert torch.allclose(tensor, (at_8[name] + at_16[name]) / 2, atol=1e-6), name


def test_weights_between_evaluations_are_averaged_every_few_steps_when_asked(
    scenes, tmp_path, monkeypatch
):
    dense = replace(TINY, average_last=3, average_every=4)  # steps 8, 12 and 16
    seen = {}
    for stop in (8, 12, None):
        train(
            dense,
            scenes,
            tmp_path / "parts",
            until_step=stop,
            resume=stop != 8,
            progress=False,
            log=quiet,
        )
        seen[stop or 16] = weights(tmp_path / "parts")

    # told that the average scores better, the run ships the mean of the three
    calls, measured = [], training_loop.heldout_loss

    def average_scores_better(*args, **kwargs) -> float:
        calls.append(1)  # the evaluations at steps 8 and 16, then the average
        return measured(*args, **kwargs) - (1.0 if len(calls) == 3 else 0.0)

    monkeypatch.setattr(training_loop, "heldout_loss", average_scores_better)
    train(dense, scenes, tmp_path / "whole", progress=False, log=quiet)
    record = json.loads((tmp_path / "whole" / "training.json").read_text())
    assert record["averaged_steps"] == record["shipped_average_of_steps"] == [8, 12, 16]
    for name, tensor in weights(tmp_path / "whole").items():
        mean = (seen[8][name] + seen[12][name] + seen[16][name]) / 3
        assert torch.allclose(tensor, mean, atol=1e-6), name


def test_residual_dropout_trains_differently_resumes_exactly_and_saves_plain_llama(
    trained, scenes, tmp_path
):
    dropping = replace(TINY, residual_dropout=0.3)
    train(dropping, scenes, tmp_path / "straight", progress=False, log=quiet)
    train(
        dropping, scenes, tmp_path / "resumed", until_step=8, progress=False, log=quiet
    )
    train(
        dropping, scenes, tmp_path / "resumed", resume=True, progress=False, log=quiet
    )

    plain, straight = weights(trained), weights(tmp_path / "straight")
    resumed = weights(tmp_path / "resumed")
    assert set(straight) == set(plain)  # nothing of the hooks is saved
    assert not all(torch.equal(plain[k], straight[k]) for k in plain)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)

    # evaluation runs without the dropout: the reloaded model scores what was recorded
    model = AutoModelForCausalLM.from_pretrained(
        str(tmp_path / "straight"), local_files_only=True
    )
    saved = AutoTokenizer.from_pretrained(
        str(tmp_path / "straight"), local_files_only=True
    )
    _, held = split_scenes(scenes, TINY.holdout, TINY.seed)
    windows = [w for s in held for w in scene_windows(saved, s, 128)]
    record = json.loads((tmp_path / "straight" / "training.json").read_text())
    loss = heldout_loss(model, windows, pad_id=saved.pad_token_id)
    assert loss == pytest.approx(record["final_val_loss"], rel=1e-5)


def test_training_will_not_overwrite_a_run_or_resume_nothing(trained, scenes, tmp_path):
    with pytest.raises(TrainingError, match="--resume"):
        train(TINY, scenes, trained, progress=False, log=quiet)
    with pytest.raises(TrainingError, match="no checkpoint"):
        train(TINY, scenes, tmp_path, resume=True, progress=False, log=quiet)
    with pytest.raises(TrainingError, match="another config"):
        train(replace(TINY, max_steps=30), scenes, trained, resume=True, log=quiet)
    with pytest.raises(TrainingError, match="corpus changed"):
        train(TINY, scenes[:-1], trained, resume=True, log=quiet)


def test_blade_preset_fits_the_shipping_budget():
    blade = get_preset("blade").config
    specials = len(special_tokens(["x"] * 12)) + 12
    config = llama_config(blade.model, _FakeTokenizer(blade.vocab_size + specials))

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    parameters = sum(p.numel() for p in model.parameters())

    assert parameters * 4 <= 60_000_000  # fp32 safetensors at most 60 MB
    assert blade.model.block_size == 512 and 4000 <= blade.vocab_size <= 8192
    assert set(PRESETS) >= {"tiny", "blade"}
    with pytest.raises(KeyError, match="tiny, blade"):
        get_preset("huge")


class _FakeTokenizer:
    """Just enough of a tokenizer for llama_config."""

    pad_token_id = 0

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def convert_tokens_to_ids(self, token: str) -> int:
        return 1
