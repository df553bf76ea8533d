"""Tell a dataset file's format, and read any dataset file by format name."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.training.importers.base import (
    DatasetError,
    ImportedScene,
    decode,
    read_bytes,
)
from agents.training.importers.card import PNG_SIGNATURE, SPEC, read_card
from agents.training.importers.characterllm import read_character_llm
from agents.training.importers.chatharuhi import LINE, read_chatharuhi
from agents.training.importers.fountain import HEADING, read_fountain
from agents.training.importers.xtuner import read_xtuner

FORMATS = ("xtuner", "character-llm", "chatharuhi", "fountain", "card")
_SNIFF_LINES = 200  # how many lines of a text file format detection looks at


@dataclass
class Dataset:
    """What one dataset file holds: scenes, or character profiles (from cards)."""

    format: str
    scenes: list[ImportedScene] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)


def read_dataset(
    path: str | Path,
    format: str | None = None,
    *,
    speaker_map: dict[str, str] | None = None,
    encoding: str | None = None,
) -> Dataset:
    """Return what the dataset file `path` holds, detecting its format unless given."""
    format = format or detect_format(path, encoding)
    options = {"speaker_map": speaker_map, "encoding": encoding}
    if format == "xtuner":
        return Dataset(format, scenes=read_xtuner(path, **options))
    if format == "character-llm":
        return Dataset(format, scenes=read_character_llm(path, **options))
    if format == "chatharuhi":
        return Dataset(format, scenes=[read_chatharuhi(path, **options)])
    if format == "fountain":
        return Dataset(format, scenes=read_fountain(path, **options))
    if format == "card":
        return Dataset(format, profiles=[read_card(path)])
    raise DatasetError(path, "", f"unknown format {format!r}: use one of {FORMATS}")


def detect_format(path: str | Path, encoding: str | None = None) -> str:
    """Return the format of the dataset file `path`, or raise DatasetError."""
    suffix = Path(path).suffix.lower()
    if suffix == ".srt":
        raise DatasetError(
            path, "", "this is a subtitle file: import it with import_subtitles"
        )
    if suffix in (".fountain", ".spmd"):
        return "fountain"
    data = read_bytes(path)
    if data.startswith(PNG_SIGNATURE):
        return "card"
    text = decode(path, data, encoding)
    first = _first_record(path, text)
    if isinstance(first, dict):
        if first.get("spec") == SPEC or {"name", "first_mes"} <= first.keys():
            return "card"
        if "conversation" in first:
            return "xtuner"
        if "prompt" in first and "output" in first:
            return "character-llm"
    rows = [row.strip() for row in text.splitlines() if row.strip()][:_SNIFF_LINES]
    if rows and sum(1 for row in rows if LINE.match(row)) * 2 >= len(rows):
        return "chatharuhi"
    if rows and (rows[0].lower().startswith("title:") or any(map(HEADING.match, rows))):
        return "fountain"
    raise DatasetError(
        path, "", f"cannot tell the file's format: pass --format ({', '.join(FORMATS)})"
    )


def _first_record(path: str | Path, text: str) -> Any:
    """Return the first JSON value of a JSON or JSON Lines text (None if not JSON)."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    skipped = text[: len(text) - len(stripped)].count("\n")
    try:
        value = json.loads(stripped)
    except RecursionError:
        raise DatasetError(path, "", "the JSON is nested too deeply") from None
    except json.JSONDecodeError as whole:
        try:
            value = json.loads(stripped.splitlines()[0])
        except (json.JSONDecodeError, RecursionError):
            raise DatasetError(
                path,
                f"line {whole.lineno + skipped}",
                f"invalid JSON ({whole.msg}): truncated?",
            ) from None
    if isinstance(value, list):
        return value[0] if value else None
    return value
