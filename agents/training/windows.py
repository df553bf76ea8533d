"""Scenes as token windows: the header, then whole lines, with the loss mask."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerFast

from agents.promptbook import (
    NARRATOR,
    ScriptLine,
    render_header,
    render_line,
    speaker_token,
)
from agents.training.dataset import DialogueScene

IGNORE = -100  # the label of a token the loss skips


@dataclass
class Window:
    """One training sequence: token ids and labels (IGNORE where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]


def scene_text(scene: DialogueScene) -> str:
    """Return the whole scene in the prompt-book format, as the model reads it."""
    lines = "".join(render_line(line) + "\n" for line in scene.lines)
    return render_header(scene.heading, scene.task) + lines


def _encode(tokenizer: PreTrainedTokenizerFast, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode_line(
    tokenizer: PreTrainedTokenizerFast, line: ScriptLine, *, learn: bool
) -> tuple[list[int], list[int]]:
    """Return ids and labels of one rendered line and its newline.

    The speaker token and the newline are context; the emotion token, stage direction,
    text and end-of-turn token are targets when `learn` is true.
    """
    rendered = render_line(line)
    opener = speaker_token(line.speaker)
    speaker_ids = _encode(tokenizer, opener)
    body_ids = _encode(tokenizer, rendered[len(opener) :])
    newline_ids = _encode(tokenizer, "\n")
    ids = speaker_ids + body_ids + newline_ids
    body_labels = body_ids if learn else [IGNORE] * len(body_ids)
    labels = [IGNORE] * len(speaker_ids) + body_labels + [IGNORE] * len(newline_ids)
    return ids, labels


def scene_windows(
    tokenizer: PreTrainedTokenizerFast, scene: DialogueScene, block_size: int
) -> list[Window]:
    """Cut `scene` into windows of at most `block_size` tokens, each led by the header.

    Lines are never split across windows; a single line longer than the room left after
    the header is truncated. Narrator lines are context only: the loss covers the lines
    the characters speak.
    """
    header = _encode(tokenizer, render_header(scene.heading, scene.task))
    header = header[: block_size // 2]  # a runaway heading must leave room for lines
    room = block_size - len(header)
    windows: list[Window] = []
    ids: list[int] = []
    labels: list[int] = []
    for line in scene.lines:
        line_ids, line_labels = encode_line(
            tokenizer, line, learn=line.speaker != NARRATOR
        )
        line_ids, line_labels = line_ids[:room], line_labels[:room]
        if ids and len(ids) + len(line_ids) > room:
            windows.append(Window(header + ids, [IGNORE] * len(header) + labels))
            ids, labels = [], []
        ids += line_ids
        labels += line_labels
    if ids:
        windows.append(Window(header + ids, [IGNORE] * len(header) + labels))
    return [w for w in windows if any(label != IGNORE for label in w.labels)]


def collate(windows: list[Window], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad `windows` to the longest one and stack them into a batch for the model."""
    width = max(len(w.input_ids) for w in windows)
    input_ids = torch.full((len(windows), width), pad_id, dtype=torch.long)  # (B, T)
    labels = torch.full((len(windows), width), IGNORE, dtype=torch.long)  # (B, T)
    attention = torch.zeros((len(windows), width), dtype=torch.long)  # (B, T)
    for row, window in enumerate(windows):
        n = len(window.input_ids)
        input_ids[row, :n] = torch.tensor(window.input_ids)
        labels[row, :n] = torch.tensor(window.labels)
        attention[row, :n] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}
