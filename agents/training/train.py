"""Train the stage model from scratch on dialogue scenes: a straight-line loop."""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
import transformers
from tqdm import tqdm
from transformers import LlamaForCausalLM

from agents.promptbook import NARRATOR
from agents.training.curves import save_loss_curve
from agents.training.dataset import DialogueScene
from agents.training.losses import batch_nll, heldout_loss
from agents.training.model import (
    ModelConfig,
    build_model,
    count_parameters,
    save_model,
)
from agents.training.splits import split_scenes
from agents.training.tokenizer import load_tokenizer, train_tokenizer
from agents.training.windows import collate, scene_text, scene_windows

CHECKPOINT = "checkpoint.pt"
RUN_LIMITS = ("time_limit_s",)  # config fields that bound a run, not what it learns


class TrainingError(RuntimeError):
    """A training run that cannot start or continue, with what to do about it."""


@dataclass
class TrainConfig:
    """Everything that decides a run: equal configs and data give equal models."""

    model: ModelConfig = field(default_factory=ModelConfig)  # the network's shape
    vocab_size: int = 4096  # BPE vocabulary, special tokens included
    seed: int = 1337  # seeds the weights, the held-out split and the batch order
    holdout: float = 0.1  # share of scenes held out for evaluation, whole scenes
    batch_size: int = 8  # windows per optimizer step
    max_steps: int = 2000  # optimizer steps in all
    learning_rate: float = 1e-3  # peak learning rate, reached after the warm-up
    min_lr: float = 1e-4  # learning rate at the end of the cosine decay
    warmup_steps: int = 100  # steps of linear warm-up from zero
    weight_decay: float = 0.1  # AdamW weight decay on matrices (not norms)
    residual_dropout: float = 0.0  # dropout on embeddings and each block's outputs
    beta1: float = 0.9  # AdamW first-moment decay
    beta2: float = 0.95  # AdamW second-moment decay
    grad_clip: float = 1.0  # clip the global gradient norm to this (0 turns it off)
    eval_interval: int = 200  # steps between held-out evaluations
    eval_windows: int = 0  # held-out windows per evaluation, evenly spread (0: all)
    log_interval: int = 10  # steps between points of the training-loss curve
    checkpoint_interval: int = 200  # steps between resumable checkpoints
    keep_best: bool = True  # ship the weights of the best held-out loss, not the last
    average_last: int = 0  # average the weights at the last N points; ship if better
    average_every: int = 0  # steps between those points (0: eval_interval)
    time_limit_s: float = 0.0  # stop early after this much training time (0: never)
    device: str = "auto"  # "auto" (GPU when present), "cpu" or "cuda"
    precision: str = "auto"  # "fp32", "bf16" (autocast) or "auto": bf16 if supported


@dataclass
class TrainResult:
    """What a training run did, as also written to training.json."""

    out_dir: Path
    steps: int
    best_val_loss: float
    best_step: int  # the step shipped, or the last of the averaged steps
    final_val_loss: float
    seconds: float
    parameters: int
    finished: bool  # False when stopped early (until_step or the time limit)
    averaged_steps: list[int] = field(default_factory=list)  # when the average shipped


def learning_rate(step: int, config: TrainConfig) -> float:
    """Return the learning rate at `step`: linear warm-up, cosine decay to min_lr."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    span = max(1, config.max_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return config.min_lr + cosine * (config.learning_rate - config.min_lr)


def cast_of(scenes: list[DialogueScene]) -> list[str]:
    """Return the sorted slugs of everyone who speaks in `scenes`, but the narrator."""
    slugs = {line.speaker for scene in scenes for line in scene.lines}
    slugs |= {slug for scene in scenes for slug in scene.speaker_names}
    return sorted(slugs - {NARRATOR})


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """Return the dtype to autocast matrix products to, or None for plain fp32."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if torch.ops.mkldnn._is_mkldnn_bf16_supported() else None


def _precision(
    device: torch.device, dtype: torch.dtype | None
) -> AbstractContextManager:
    """Return a context that autocasts to `dtype`, or does nothing when it is None."""
    return torch.autocast(device.type, dtype=dtype) if dtype else nullcontext()


def _optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    params = list(model.parameters())
    groups = [
        {
            "params": [p for p in params if p.dim() >= 2],
            "weight_decay": config.weight_decay,
        },
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        groups, lr=config.learning_rate, betas=(config.beta1, config.beta2)
    )


def _drop_outputs(model: LlamaForCausalLM, p: float) -> None:
    """Add dropout to the embeddings and to every attention and feed-forward output.

    Llama itself has only attention dropout; these hooks drop activations while the
    model trains and do nothing in eval mode. They live outside the weights, so the
    saved model is a plain Llama.
    """

    def drop(module: torch.nn.Module, _inputs: tuple, output: object) -> object:
        if not module.training:
            return output
        if isinstance(output, tuple):  # attention returns (output, weights)
            return (F.dropout(output[0], p, training=True), *output[1:])
        return F.dropout(output, p, training=True)

    decoder = model.model
    modules = [decoder.embed_tokens]
    for layer in decoder.layers:
        modules += [layer.self_attn, layer.mlp]
    for module in modules:
        module.register_forward_hook(drop)


def _trajectory(config: dict) -> dict:
    """Return a config (as a dict) without the fields a resumed run may change."""
    return {key: value for key, value in config.items() if key not in RUN_LIMITS}


def _averaging(step: int, config: TrainConfig) -> bool:
    """Whether the weights at `step` are among the last `average_last` averaged."""
    every = config.average_every or config.eval_interval
    first = config.max_steps - config.average_last * every
    return config.average_last > 0 and step > first and step % every == 0


def _save_checkpoint(path: Path, state: dict) -> None:
    partial = path.with_suffix(".tmp")
    torch.save(state, partial)
    os.replace(partial, path)


def train(
    config: TrainConfig,
    scenes: list[DialogueScene],
    out_dir: str | Path,
    *,
    resume: bool = False,
    until_step: int | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train a stage model on `scenes` into `out_dir`, or resume the run saved there.

    `until_step` stops after that step and leaves a checkpoint, as an interruption
    would; a later call with `resume=True` reaches the same weights as a straight run.
    """
    out_dir = Path(out_dir)
    checkpoint_path = out_dir / CHECKPOINT
    if resume and not checkpoint_path.exists():
        raise TrainingError(f"no checkpoint in {out_dir}; start without --resume")
    if not resume and checkpoint_path.exists():
        raise TrainingError(
            f"{out_dir} already holds a training run; pass --resume to continue it "
            "or choose another output directory"
        )
    train_scenes, held_scenes = split_scenes(scenes, config.holdout, config.seed)
    if not train_scenes or not held_scenes:
        raise TrainingError(
            f"need scenes to train on and to hold out; got {len(train_scenes)} and "
            f"{len(held_scenes)} from {len(scenes)} scenes (add scenes or change "
            "holdout)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    device = _device(config.device)
    autocast = _autocast_dtype(config.precision, device)

    # the tokenizer: trained once on the training scenes, reloaded on resume
    if resume:
        tokenizer = load_tokenizer(out_dir)
    else:
        texts = [scene_text(scene) for scene in train_scenes]
        tokenizer = train_tokenizer(texts, cast_of(scenes), config.vocab_size)
        tokenizer.save_pretrained(out_dir)
    block = config.model.block_size
    train_windows = [
        w for s in train_scenes for w in scene_windows(tokenizer, s, block)
    ]
    held_windows = [w for s in held_scenes for w in scene_windows(tokenizer, s, block)]
    if 0 < config.eval_windows < len(held_windows):
        stride = len(held_windows) / config.eval_windows
        held_windows = [
            held_windows[int(i * stride)] for i in range(config.eval_windows)
        ]
    pad_id = tokenizer.pad_token_id
    digest = hashlib.sha256(
        json.dumps([w.input_ids for w in train_windows + held_windows]).encode()
    ).hexdigest()  # the data a checkpoint belongs to

    # the model, the optimizer and the batch order, all from the seed
    torch.manual_seed(config.seed)
    model = build_model(config.model, tokenizer).to(device)
    model.generation_config.eos_token_id = model.config.eos_token_id
    model.generation_config.pad_token_id = pad_id
    if config.residual_dropout > 0:
        _drop_outputs(model, config.residual_dropout)
    optimizer = _optimizer(model, config)
    batches = torch.Generator().manual_seed(config.seed)
    step, seconds = 0, 0.0
    stop = config.max_steps if until_step is None else min(until_step, config.max_steps)
    best_val, best_step, val = math.inf, -1, math.nan
    history: dict[str, list[list[float]]] = {"train": [], "val": []}
    running, running_n = 0.0, 0  # the training loss since the last curve point
    weight_sum: dict[str, torch.Tensor] = {}  # the averaged steps' weights, summed
    averaged: list[int] = []  # those steps
    if resume:
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        if _trajectory(state["config"]) != _trajectory(asdict(config)):
            raise TrainingError(
                f"the checkpoint in {out_dir} was made with another config; resume "
                "with the same preset, or start a new run in another directory"
            )
        if 0 < config.time_limit_s <= state["seconds"] and state["step"] < stop:
            raise TrainingError(
                f"the run in {out_dir} has already trained {state['seconds']:.0f}s, "
                f"its time limit of {config.time_limit_s:.0f}s; resume with a "
                "larger limit (--time-limit MINUTES, 0 for none) to finish it"
            )
        if state["data"] != digest:
            raise TrainingError(
                f"the scenes differ from those the checkpoint in {out_dir} was "
                "trained on (was the corpus changed?); start a new run instead"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        batches.set_state(state["batch_rng"])
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        step, seconds, history = state["step"], state["seconds"], state["history"]
        best_val, best_step = state["best_val"], state["best_step"]
        running, running_n = state["running"], state["running_n"]
        weight_sum, averaged = state["weight_sum"], state["averaged"]
        log(f"resuming {out_dir} at step {step}")

    def checkpoint() -> None:
        _save_checkpoint(
            checkpoint_path,
            {
                "config": asdict(config),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "batch_rng": batches.get_state(),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(device)
                if device.type == "cuda"
                else None,
                "step": step,
                "seconds": seconds,
                "history": history,
                "best_val": best_val,
                "best_step": best_step,
                "running": running,
                "running_n": running_n,
                "weight_sum": weight_sum,
                "averaged": averaged,
                "data": digest,
            },
        )

    log(
        f"training {count_parameters(model):,} parameters on {device.type} "
        f"({autocast or torch.float32}): "
        f"{len(train_windows)} windows from {len(train_scenes)} scenes, "
        f"{len(held_windows)} held out from {len(held_scenes)}"
    )
    bar = tqdm(total=config.max_steps, initial=step, disable=not progress, unit="step")
    model.train()
    started = time.perf_counter() - seconds
    while step < stop:
        # one optimizer step on a random batch of windows
        lr = learning_rate(step, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        picks = torch.randint(
            len(train_windows), (config.batch_size,), generator=batches
        )
        batch = collate([train_windows[i] for i in picks.tolist()], pad_id)
        batch = {key: value.to(device) for key, value in batch.items()}
        with _precision(device, autocast):
            nll, count = batch_nll(model, batch)
        loss = nll / max(count, 1)
        loss.backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seconds = time.perf_counter() - started
        running += loss.item()
        running_n += 1
        bar.update(1)

        if step % config.log_interval == 0 or step == config.max_steps:
            history["train"].append([step, running / running_n])
            bar.set_postfix(loss=f"{running / running_n:.3f}", lr=f"{lr:.1e}")
            running, running_n = 0.0, 0
        out_of_time = 0 < config.time_limit_s <= seconds
        ending = step == config.max_steps or out_of_time
        if step % config.eval_interval == 0 or ending:
            val = heldout_loss(model, held_windows, pad_id=pad_id, device=device)
            history["val"].append([step, val])
            bar.write(
                f"step {step}: held-out loss {val:.4f} (perplexity {math.exp(val):.2f})"
            )
            if val < best_val:
                best_val, best_step = val, step
                if config.keep_best:
                    save_model(model, out_dir)
        if _averaging(step, config):
            for name, tensor in model.state_dict().items():
                summed = weight_sum.get(name)
                weight_sum[name] = (
                    tensor.detach().clone() if summed is None else summed + tensor
                )
            averaged.append(step)
        if step % config.checkpoint_interval == 0 or ending or step == stop:
            checkpoint()
        if out_of_time:
            log(
                f"stopping at step {step}: the time limit of {config.time_limit_s:.0f}s"
            )
            break
    bar.close()

    finished = step >= config.max_steps
    if not config.keep_best or best_step < 0:
        save_model(model, out_dir)
    shipped_average: list[int] = []
    average_val = math.nan
    if finished and len(averaged) > 1:
        trained = {name: t.clone() for name, t in model.state_dict().items()}
        model.load_state_dict({n: t / len(averaged) for n, t in weight_sum.items()})
        average_val = heldout_loss(model, held_windows, pad_id=pad_id, device=device)
        log(
            f"the average of steps {', '.join(map(str, averaged))}: held-out loss "
            f"{average_val:.4f} (perplexity {math.exp(average_val):.2f})"
        )
        if average_val < (best_val if config.keep_best else val):
            save_model(model, out_dir)
            best_val, best_step, shipped_average = average_val, averaged[-1], averaged
        else:
            model.load_state_dict(trained)
    if math.isnan(val):
        val = heldout_loss(model, held_windows, pad_id=pad_id, device=device)
    record = {
        "config": asdict(config),
        "steps": step,
        "finished": finished,
        "seed": config.seed,
        "seconds": round(seconds, 1),
        "parameters": count_parameters(model),
        "device": device.type,
        "best_val_loss": best_val,
        "best_step": best_step,
        "final_val_loss": val,
        "shipped_step": best_step if config.keep_best and best_step >= 0 else step,
        "averaged_steps": averaged,
        "average_val_loss": None if math.isnan(average_val) else average_val,
        "shipped_average_of_steps": shipped_average,
        "train_windows": len(train_windows),
        "train_tokens": sum(len(w.input_ids) for w in train_windows),
        "train_titles": [scene.title for scene in train_scenes],
        "heldout_titles": [scene.title for scene in held_scenes],
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }
    (out_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    save_loss_curve(history, out_dir)
    return TrainResult(
        out_dir=out_dir,
        steps=step,
        best_val_loss=best_val,
        best_step=best_step,
        final_val_loss=val,
        seconds=seconds,
        parameters=record["parameters"],
        finished=finished,
        averaged_steps=shipped_average,
    )
