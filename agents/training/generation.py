"""Sample one line from a stage model for a cue, timing the first token and the rest."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from agents.promptbook import (
    EOT_TOKEN,
    Cue,
    ParsedLine,
    parse_line,
    render_header,
    render_line,
    speaker_token,
)


@dataclass
class Generation:
    """A sampled line: the text after the speaker token, parsed, and its timing."""

    raw: str  # decoded output up to and including <|eot|>, special tokens kept
    line: ParsedLine
    ended: bool  # the model closed the line with <|eot|> within the token limit
    valid: bool  # an emotion, non-empty text, and no other special token inside
    new_tokens: int
    first_token_s: float  # time to first token
    seconds: float  # time for the whole line


class _Clock:
    """A generate() streamer that notes when the first new token arrives."""

    def __init__(self) -> None:
        self.calls = 0
        self.first: float | None = None

    def put(self, value: torch.Tensor) -> None:
        self.calls += 1
        if self.calls == 2:  # the first call carries the prompt
            self.first = time.perf_counter()

    def end(self) -> None:
        pass


def prompt_ids(tokenizer: PreTrainedTokenizerFast, cue: Cue, budget: int) -> list[int]:
    """Return the ids of `cue`'s prompt, dropping the oldest lines to fit `budget`."""

    def encode(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    head = encode(render_header(cue.heading, cue.task))[: budget // 2]
    tail = encode(speaker_token(cue.speaker))
    room = budget - len(head) - len(tail)
    kept: list[int] = []
    for line in reversed(cue.lines):
        ids = encode(render_line(line) + "\n")
        if len(ids) > room - len(kept):
            break
        kept = ids + kept
    return head + kept + tail


def generate_line(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    cue: Cue,
    *,
    max_new_tokens: int = 80,
    temperature: float = 0.8,
    top_k: int = 50,
    seed: int = 0,
) -> Generation:
    """Sample the next line of `cue` by sampling with `seed`, and parse it."""
    budget = model.config.max_position_embeddings - max_new_tokens
    ids = torch.tensor(
        [prompt_ids(tokenizer, cue, budget)], device=model.device
    )  # (1, T)
    eot = tokenizer.convert_tokens_to_ids(EOT_TOKEN)
    clock = _Clock()
    torch.manual_seed(seed)
    started = time.perf_counter()
    with torch.no_grad():
        output = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            do_sample=True,
            temperature=temperature,
            top_k=top_k,
            max_new_tokens=max_new_tokens,
            eos_token_id=eot,
            pad_token_id=tokenizer.pad_token_id,
            streamer=clock,
        )
    seconds = time.perf_counter() - started
    new = output[0, ids.shape[1] :].tolist()
    ended = eot in new
    if ended:
        new = new[: new.index(eot) + 1]
    raw = tokenizer.decode(new, skip_special_tokens=False)
    line = parse_line(raw)
    stray = "<|" in line.text or "<|" in line.direction  # another speaker, say
    valid = line.emotion is not None and bool(line.text) and not stray
    return Generation(
        raw=raw,
        line=line,
        ended=ended,
        valid=valid,
        new_tokens=len(new),
        first_token_s=(clock.first or time.perf_counter()) - started,
        seconds=seconds,
    )
