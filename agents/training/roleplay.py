"""Scenes as role-play conversations, one per character, in XTuner JSONL format."""

from __future__ import annotations

import json
from pathlib import Path

from agents.promptbook import NARRATOR, ScriptLine
from agents.training.dataset import DialogueScene


def display_name(scene: DialogueScene, slug: str) -> str:
    """Return how `slug` is called in `scene`, falling back to the capitalised slug."""
    return scene.speaker_names.get(slug) or slug.replace("_", " ").title()


def system_prompt(scene: DialogueScene, slug: str) -> str:
    """Return the system text that casts the model as `slug` in `scene`."""
    name = display_name(scene, slug)
    text = (
        f"You are {name}, a character in the stage play. Stay in character and answer "
        f"with one line: [emotion] (optional stage direction) what {name} says."
    )
    if scene.heading:
        text += f"\nScene: {scene.heading.strip()}"
    if scene.task:
        text += f"\nThe problem the council talks through: {scene.task.strip()}"
    return text


def _spoken(scene: DialogueScene, line: ScriptLine) -> str:
    if line.speaker == NARRATOR:
        return f"({line.text.strip()})"
    return f"{display_name(scene, line.speaker)}: {line.text.strip()}"


def answer_text(line: ScriptLine) -> str:
    """Return `line` as an answer, `[emotion] (direction) text`, as parse_line reads."""
    direction = f" ({line.direction})" if line.direction else ""
    return f"[{line.emotion}]{direction} {line.text.strip()}"


def scene_conversations(
    scenes: list[DialogueScene],
    characters: list[str] | None = None,
    *,
    context_lines: int = 6,
) -> list[dict]:
    """Return XTuner multi-turn conversations, one per scene and character who speaks.

    Each turn's input is what was said since the character last spoke (at most
    `context_lines` lines); its output is the character's line. `characters` limits the
    conversations to those slugs; None takes every speaking character.
    """
    records = []
    for scene in scenes:
        speakers = sorted({line.speaker for line in scene.lines} - {NARRATOR})
        for slug in speakers:
            if characters is not None and slug not in characters:
                continue
            turns: list[dict] = []
            since: list[ScriptLine] = []
            for line in scene.lines:
                if line.speaker != slug:
                    since.append(line)
                    continue
                heard = "\n".join(
                    _spoken(scene, other) for other in since[-context_lines:]
                )
                turn = {
                    "input": heard or "(The scene begins.)",
                    "output": answer_text(line),
                }
                if not turns:
                    turn = {"system": system_prompt(scene, slug), **turn}
                turns.append(turn)
                since = []
            if turns:
                records.append({"conversation": turns})
    return records


def write_jsonl(records: list[dict], path: str | Path) -> None:
    """Write `records` one JSON object per line, as XTuner reads them."""
    with Path(path).open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    """Read XTuner conversations from `path`, checking their input and output turns."""
    records = []
    with Path(path).open(encoding="utf-8") as source:
        for number, text in enumerate(source, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
            turns = record.get("conversation") if isinstance(record, dict) else None
            if (
                not isinstance(turns, list)
                or not turns
                or not all(
                    isinstance(t, dict)
                    and isinstance(t.get("input", ""), str)
                    and isinstance(t.get("output"), str)
                    for t in turns
                )
            ):
                raise ValueError(
                    f"{path}:{number}: expected "
                    '{"conversation": [{"system": ..., "input": ..., '
                    '"output": ...}, ...]}'
                )
            records.append(record)
    if not records:
        raise ValueError(f"{path} holds no conversations")
    return records
