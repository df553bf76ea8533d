"""Read XTuner conversation JSONL: role-play records, and the stage records we export.

A record is `{"conversation": [{"system": ..., "input": ..., "output": ...}, ...]}`.
Role-play data (Roleplay-with-XiYou) has a system text that names or describes the
role; inputs are what others say to it, outputs its answers. Stage records (written
by `exporters.scenes_to_xtuner`) open their system text with STAGE_MARK: each input
names who speaks next and each output is that line, `[emotion] (direction) words`.
"""

from __future__ import annotations

import re
from pathlib import Path

from agents.promptbook import NARRATOR, OTHER_SPEAKER, parse_line
from agents.training.importers.base import (
    Cast,
    DatasetError,
    ImportedScene,
    json_records,
    name_key,
    parse_cast,
    read_text,
    spoken,
    tidy,
)

STAGE_MARK = "Stage play scene: "
STAGE_RULE = (
    "Each input names who speaks next; the output is their line, written "
    "[emotion] (stage direction) words."
)
NARRATOR_CUE = "Narrator"
OTHER_NAME = "Other"
_ROLE_PATTERNS = (
    re.compile(
        r"你(?:现在)?(?:是|扮演|将扮演)(?:[^，。,.\n]{0,20}?中的)?"
        r"(?P<name>[^，。,.！？!?\s「」“”]{1,12}?)(?:[，。,.！？!?\s]|$)"
    ),
    re.compile(
        r"(?:[Yy]ou are|act (?:like|as)|play(?:ing)? the role of)\s+"
        r"(?P<name>[A-Z][\w'-]*(?: [A-Z][\w'-]*){0,2})"
    ),
)
_SHORT_NAME = re.compile(r"^[^\n，。,.！？!?:：;；]{1,24}$")


def read_xtuner(
    path: str | Path,
    *,
    speaker_map: dict[str, str] | None = None,
    encoding: str | None = None,
) -> list[ImportedScene]:
    """Return one scene per conversation record in `path`, or raise DatasetError."""
    text = read_text(path, encoding)
    scenes = []
    for number, (where, record) in enumerate(json_records(path, text), 1):
        turns = _turns(path, where, record)
        system = next((t["system"] for t in turns if t["system"].strip()), "")
        cast = Cast(path, speaker_map)
        if system.startswith(STAGE_MARK):
            scene = _stage_scene(path, where, system, turns, cast)
        else:
            scene = _role_scene(path, where, system, turns, cast)
            scene.title = f"{Path(path).stem} #{number}"
        if not scene.lines:
            raise DatasetError(path, where, "the conversation has no words in it")
        scene.source = f"{path} ({where})"
        scene.speaker_names = cast.names
        scenes.append(scene)
    return scenes


def _turns(path: str | Path, where: str, record: dict) -> list[dict[str, str]]:
    """Return the checked turns of a conversation record."""
    conversation = record.get("conversation")
    if conversation is None:
        raise DatasetError(path, where, "missing field 'conversation'")
    if not isinstance(conversation, list) or not conversation:
        raise DatasetError(
            path, where, "'conversation' must be a non-empty list of turns"
        )
    turns = []
    for number, turn in enumerate(conversation, 1):
        at = f"{where}, turn {number}"
        if not isinstance(turn, dict):
            raise DatasetError(path, at, "a turn must be an object")
        checked = {}
        for key in ("system", "input", "output"):
            value = turn.get(key, "" if key == "system" else None)
            if value is None:
                raise DatasetError(path, at, f"missing field {key!r}")
            if not isinstance(value, str):
                raise DatasetError(path, at, f"field {key!r} must be a string")
            checked[key] = value
        turns.append(checked)
    return turns


def stage_header(system: str) -> dict[str, str]:
    """Return the `Key: value` fields of a stage record's system text."""
    fields = {"Title": system.splitlines()[0].removeprefix(STAGE_MARK)}
    for line in system.splitlines()[1:]:
        key, sep, value = line.partition(": ")
        if sep and key in ("Kind", "Heading", "Task", "Cast"):
            fields[key] = value
    return fields


def _stage_scene(
    path: str | Path, where: str, system: str, turns: list[dict], cast: Cast
) -> ImportedScene:
    """Return the scene of a stage record: cues as inputs, lines as outputs."""
    header = stage_header(system)
    kind = header.get("Kind", "world")
    if kind not in ("world", "council"):
        raise DatasetError(path, where, f"kind {kind!r} is neither world nor council")
    known = {}
    if header.get("Cast"):
        for name, slug in parse_cast(path, where, header["Cast"]).items():
            known[name_key(name)] = cast.known(slug, name)
    lines = []
    for number, turn in enumerate(turns, 1):
        at = f"{where}, turn {number}"
        cue = tidy(turn["input"])
        if name_key(cue) == name_key(NARRATOR_CUE):
            speaker = NARRATOR
        elif name_key(cue) in known:
            speaker = known[name_key(cue)]
        else:
            speaker = cast.slug(cue, at)
        parsed = parse_line(turn["output"])
        if not parsed.text:
            raise DatasetError(path, at, "the output holds no words")
        lines.append(spoken(speaker, parsed.text, at, parsed.emotion, parsed.direction))
    return ImportedScene(
        title=tidy(header["Title"]),
        heading=tidy(header.get("Heading", "")),
        task=tidy(header.get("Task", "")),
        kind=kind,
        lines=lines,
        synopsis=tidy(header.get("Heading", "")),
    )


def role_name(system: str) -> str | None:
    """Return the role a role-play system text names, or None."""
    if _SHORT_NAME.match(system.strip()):
        return system.strip()
    for pattern in _ROLE_PATTERNS:
        match = pattern.search(system)
        if match:
            return match.group("name")
    return None


def _role_scene(
    path: str | Path, where: str, system: str, turns: list[dict], cast: Cast
) -> ImportedScene:
    """Return the scene of a role-play record: others' inputs, the role's outputs."""
    role = role_name(system)
    if role is None:
        raise DatasetError(
            path,
            where,
            "the system text names no role: begin it with 'You are <name>' or "
            "'你是<name>', or make it just the role's name",
        )
    speaker = cast.slug(role, where)
    lines = []
    for number, turn in enumerate(turns, 1):
        at = f"{where}, turn {number}"
        for who, said in ((OTHER_SPEAKER, turn["input"]), (speaker, turn["output"])):
            if tidy(said):
                lines.append(spoken(who, said, at))
    if any(line.speaker == OTHER_SPEAKER for line in lines):
        cast.known(OTHER_SPEAKER, OTHER_NAME)
    heading = "" if tidy(system) == role else tidy(system)
    return ImportedScene(title="", heading=heading, lines=lines, synopsis=heading)
