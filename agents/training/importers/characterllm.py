"""Read Character-LLM prompted JSONL: `{"prompt", "output", "source"}` records.

The prompt says whom to act like and the status (`Location:`, `Status:`; our own
exports add `Scene:`, `Kind:`, `Task:`, `Cast:`); the output is the dialogue, turns
written `Name (action): words<|eot|>`. The action becomes the stage direction, or
the emotion and direction when it reads `(emotion; direction)`.
"""

from __future__ import annotations

import re
from pathlib import Path

from agents.promptbook import EMOTIONS, EOT_TOKEN
from agents.training.importers.base import (
    Cast,
    DatasetError,
    ImportedScene,
    SourceLine,
    json_records,
    name_key,
    parse_cast,
    read_text,
    spoken,
    text_field,
    tidy,
)

STATUS_OPENING = "The status of you is as follows:"
INTERACTIONS_OPENING = "The interactions are as follows:"
SILENT_ACTION = "speaking"  # the default action: it says nothing about staging
_TURN = re.compile(
    r"^(?P<name>[^:：()（）\n]{1,80}?)\s*(?:[(（](?P<action>[^()（）]*)[)）])?\s*[:：]"
    r"\s*(?P<text>.*)$",
    re.DOTALL,
)
_STATUS_KEYS = ("Location", "Status", "Scene", "Kind", "Task", "Cast")


def read_character_llm(
    path: str | Path,
    *,
    speaker_map: dict[str, str] | None = None,
    encoding: str | None = None,
) -> list[ImportedScene]:
    """Return one scene per prompted record in `path`, or raise DatasetError."""
    text = read_text(path, encoding)
    scenes = []
    for number, (where, record) in enumerate(json_records(path, text), 1):
        prompt = text_field(path, where, record, "prompt")
        output = text_field(path, where, record, "output")
        source = record.get("source", "")
        if not isinstance(source, str):
            raise DatasetError(path, where, "field 'source' must be a string")
        status = prompt_status(prompt)
        kind = status.get("Kind", "world")
        if kind not in ("world", "council"):
            raise DatasetError(
                path, where, f"kind {kind!r} is neither world nor council"
            )
        cast = Cast(path, speaker_map)
        known = {}
        if status.get("Cast"):
            for name, slug in parse_cast(path, where, status["Cast"]).items():
                known[name_key(name)] = cast.known(slug, name)
        lines = _turns(path, where, output, cast, known)
        heading = tidy(" ".join(status.get(k, "") for k in ("Location", "Status")))
        scenes.append(
            ImportedScene(
                title=status.get("Scene")
                or tidy(source)
                or f"{Path(path).stem} #{number}",
                heading=heading,
                task=status.get("Task", ""),
                kind=kind,
                lines=lines,
                source=f"{path} ({where})",
                speaker_names=cast.names,
                synopsis=heading,
            )
        )
    return scenes


def prompt_status(prompt: str) -> dict[str, str]:
    """Return the `Key: value` lines of the prompt's status block."""
    _, found, rest = prompt.partition(STATUS_OPENING)
    if not found:
        return {}
    block = rest.split(INTERACTIONS_OPENING, 1)[0]
    status = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in _STATUS_KEYS:
            status[key.strip()] = tidy(value)
    return status


def _turns(
    path: str | Path, where: str, output: str, cast: Cast, known: dict[str, str]
) -> list[SourceLine]:
    """Return the turns of a record's output as script lines."""
    lines = []
    chunks = [chunk.strip() for chunk in output.split(EOT_TOKEN)]
    for number, chunk in enumerate((c for c in chunks if c), 1):
        at = f"{where}, turn {number}"
        match = _TURN.match(chunk)
        if not match:
            raise DatasetError(
                path,
                at,
                f"expected 'Name (action): words{EOT_TOKEN}', found {chunk[:50]!r}",
            )
        name = tidy(match.group("name"))
        speaker = known.get(name_key(name)) or cast.slug(name, at)
        emotion, direction = split_action(match.group("action") or "")
        words = tidy(match.group("text"))
        if not words:
            raise DatasetError(path, at, f"{name} says nothing")
        lines.append(spoken(speaker, words, at, emotion, direction))
    if not lines:
        raise DatasetError(path, where, "the output holds no turns")
    return lines


def split_action(action: str) -> tuple[str | None, str]:
    """Return the emotion (or None) and stage direction in a turn's action."""
    first, _, rest = action.partition(";")
    if first.strip().lower() in EMOTIONS:
        return first.strip().lower(), tidy(rest)
    direction = tidy(action)
    return None, "" if direction.lower() == SILENT_ACTION else direction
