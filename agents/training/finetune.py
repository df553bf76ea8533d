"""LoRA fine-tuning of a local causal language model on XTuner conversations."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from tqdm import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from agents.training.model import quiet_progress
from agents.training.roleplay import write_jsonl
from agents.training.windows import IGNORE


@dataclass
class FinetuneConfig:
    """How to fine-tune: the LoRA adapter's shape and the optimizer's schedule."""

    rank: int = 8  # LoRA rank r
    alpha: int = 16  # LoRA scale numerator (the update is scaled by alpha / rank)
    dropout: float = 0.05  # dropout on the adapter's input
    target_modules: list[str] | str = "all-linear"  # layers that get an adapter
    learning_rate: float = 2e-4  # peak learning rate after the warm-up
    warmup_steps: int = 10  # steps of linear warm-up, then linear decay to zero
    batch_size: int = 4  # examples (conversations or their parts) per step
    epochs: int = 1  # passes over the conversations
    max_steps: int = 0  # stop after this many steps (0: run all the epochs)
    max_length: int = 1024  # tokens per example; longer conversations are split
    grad_clip: float = 1.0  # clip the global gradient norm to this (0 turns it off)
    seed: int = 0  # seeds the adapter's weights and the order of conversations
    device: str = "auto"  # "auto" (GPU when present), "cpu" or "cuda"
    characters: list[str] = field(
        default_factory=list
    )  # who the data speaks for, noted


@dataclass
class FinetuneResult:
    """What a fine-tune did, as also written to finetune.json."""

    out_dir: Path
    steps: int
    first_loss: float
    last_loss: float
    seconds: float
    trainable_parameters: int


def _segments(
    tokenizer: PreTrainedTokenizerBase, turns: list[dict]
) -> list[tuple[str, bool]]:
    """Return the conversation as (text, is_target) pieces in the base model's format.

    A tokenizer with a chat template renders it; one without gets a plain
    `### Input` / `### Output` layout. Only the outputs are targets, as in XTuner.
    """
    pieces: list[tuple[str, bool]] = []
    if tokenizer.chat_template:
        messages: list[dict] = []
        rendered = ""
        for turn in turns:
            if turn.get("system"):
                messages.append({"role": "system", "content": turn["system"]})
            messages.append({"role": "user", "content": turn.get("input", "")})
            prompt = tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            messages.append({"role": "assistant", "content": turn["output"]})
            full = tokenizer.apply_chat_template(messages, tokenize=False)
            if not (prompt.startswith(rendered) and full.startswith(prompt)):
                raise ValueError(
                    "the base model's chat template does not render by turns"
                )
            pieces += [(prompt[len(rendered) :], False), (full[len(prompt) :], True)]
            rendered = full
        return pieces
    eos = tokenizer.eos_token or ""
    for turn in turns:
        system = f"{turn['system']}\n\n" if turn.get("system") else ""
        pieces.append(
            (f"{system}### Input:\n{turn.get('input', '')}\n\n### Output:\n", False)
        )
        pieces.append((f"{turn['output']}{eos}", True))
        pieces.append(("\n\n", False))
    return pieces


def encode_conversation(
    tokenizer: PreTrainedTokenizerBase, record: dict, max_length: int
) -> tuple[list[int], list[int]]:
    """Return token ids and labels of an XTuner record; the outputs are the targets."""
    ids: list[int] = []
    labels: list[int] = []
    if tokenizer.bos_token_id is not None and not tokenizer.chat_template:
        ids, labels = [tokenizer.bos_token_id], [IGNORE]
    for text, target in _segments(tokenizer, record["conversation"]):
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if target else [IGNORE] * len(piece)
    return ids[:max_length], labels[:max_length]


def training_examples(
    tokenizer: PreTrainedTokenizerBase, record: dict, max_length: int
) -> list[tuple[list[int], list[int]]]:
    """Return a record as examples of at most `max_length` tokens, split between turns.

    Each part of a long conversation repeats its system text; a single turn longer than
    `max_length` is cut at the end.
    """
    turns = record["conversation"]
    system = {"system": turns[0]["system"]} if turns[0].get("system") else {}
    examples: list[tuple[list[int], list[int]]] = []
    chunk: list[dict] = []
    encoded: tuple[list[int], list[int]] | None = None
    for turn in turns:
        turn = {key: value for key, value in turn.items() if key != "system"}
        candidate = [{**system, **turn}] if not chunk else [*chunk, turn]
        attempt = encode_conversation(tokenizer, {"conversation": candidate}, 1 << 30)
        if chunk and len(attempt[0]) > max_length:
            examples.append(encoded)
            candidate = [{**system, **turn}]
            attempt = encode_conversation(
                tokenizer, {"conversation": candidate}, 1 << 30
            )
        chunk, encoded = candidate, attempt
    if encoded is not None:
        examples.append(encoded)
    return [(ids[:max_length], labels[:max_length]) for ids, labels in examples]


def _batch(
    examples: list[tuple[list[int], list[int]]], pad_id: int, device: torch.device
) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)  # (B, T)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)  # (B, T)
    mask = torch.zeros((len(examples), width), dtype=torch.long)  # (B, T)
    for row, (ids, labs) in enumerate(examples):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(ids)] = torch.tensor(labs)
        mask[row, : len(ids)] = 1
    return {
        "input_ids": input_ids.to(device),
        "labels": labels.to(device),
        "attention_mask": mask.to(device),
    }


def finetune(
    base_dir: str | Path,
    out_dir: str | Path,
    records: list[dict],
    config: FinetuneConfig | None = None,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> FinetuneResult:
    """Train a LoRA adapter for the model in `base_dir` on XTuner `records`.

    The adapter lands in `out_dir` (adapter_config.json, adapter_model.safetensors, the
    tokenizer, the conversations as train.jsonl, and finetune.json), ready for
    `PeftModel.from_pretrained(base, out_dir)`.
    """
    config = config or FinetuneConfig()
    base_dir, out_dir = Path(base_dir), Path(out_dir)
    if not (base_dir / "config.json").exists():
        raise FileNotFoundError(
            f"no model in {base_dir} (config.json missing); pass a local Hugging Face "
            "model directory with --base"
        )
    if not records:
        raise ValueError(
            "no conversations to fine-tune on; check --characters or --data"
        )
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu")
        if config.device == "auto"
        else config.device
    )
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
    pad_id = tokenizer.pad_token_id
    pad_id = tokenizer.eos_token_id if pad_id is None else pad_id
    examples = [
        example
        for record in records
        for example in training_examples(tokenizer, record, config.max_length)
    ]
    examples = [e for e in examples if any(label != IGNORE for label in e[1][1:])]
    if not examples:
        raise ValueError(
            f"no conversation has an output within {config.max_length} tokens"
        )

    torch.manual_seed(config.seed)
    with quiet_progress():
        base = AutoModelForCausalLM.from_pretrained(
            str(base_dir), local_files_only=True
        )
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, lora).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
    per_epoch = math.ceil(len(examples) / config.batch_size)
    total = per_epoch * config.epochs
    total = min(total, config.max_steps) if config.max_steps else total
    order = torch.Generator().manual_seed(config.seed)
    log(
        f"fine-tuning {sum(p.numel() for p in trainable):,} adapter parameters on "
        f"{len(examples)} conversations for {total} steps ({device.type})"
    )

    losses: list[float] = []
    started = time.perf_counter()
    bar = tqdm(total=total, disable=not progress, unit="step")
    model.train()
    step = 0
    while step < total:
        permutation = torch.randperm(len(examples), generator=order).tolist()
        for start in range(0, len(permutation), config.batch_size):
            if step >= total:
                break
            warm = (step + 1) / max(1, config.warmup_steps)
            decay = (total - step) / max(1, total - config.warmup_steps)
            for group in optimizer.param_groups:
                group["lr"] = config.learning_rate * min(1.0, warm, decay)
            picked = [
                examples[i] for i in permutation[start : start + config.batch_size]
            ]
            batch = _batch(picked, pad_id, device)
            logits = model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).logits  # (B, T, V)
            loss = F.cross_entropy(
                logits[:, :-1].reshape(-1, logits.size(-1)).float(),
                batch["labels"][:, 1:].reshape(-1),
                ignore_index=IGNORE,
            )
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    bar.close()
    seconds = time.perf_counter() - started

    out_dir.mkdir(parents=True, exist_ok=True)
    with quiet_progress():
        model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    write_jsonl(records, out_dir / "train.jsonl")
    result = FinetuneResult(
        out_dir=out_dir,
        steps=step,
        first_loss=losses[0],
        last_loss=losses[-1],
        seconds=seconds,
        trainable_parameters=sum(p.numel() for p in trainable),
    )
    summary = {
        "base": str(base_dir.resolve()),
        "config": asdict(config),
        "conversations": len(examples),
        **{k: v for k, v in asdict(result).items() if k != "out_dir"},
        "losses": losses,
    }
    (out_dir / "finetune.json").write_text(json.dumps(summary, indent=2) + "\n")
    return result
