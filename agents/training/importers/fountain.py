"""Read Fountain screenplays in the corpus form: title page, scenes, cues with emotions.

Title-page keys `Title`, `Kind` (world|council) and `Task` apply to every scene of
the file. A scene heading (INT./EXT./EST./I/E, or forced with `.`) opens a scene,
`= ...` lines are its synopsis, action paragraphs become narrator lines, and a
dialogue block is an uppercase cue (or `@Name`), then `(emotion)` or
`(emotion; stage direction)`, then the speech. Unknown emotions are errors.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from agents.promptbook import NARRATOR
from agents.training.importers.base import (
    Cast,
    DatasetError,
    ImportedScene,
    SourceLine,
    emotion_of,
    narration,
    read_text,
    spoken,
    tidy,
)

KINDS = ("world", "council")
HEADING = re.compile(
    r"^(?:INT\.?/EXT|EXT\.?/INT|I/E|INT|EXT|EST)[.\s]\s*(?P<rest>.*)$", re.IGNORECASE
)
_TITLE_KEY = re.compile(r"^(?P<key>[A-Za-z][A-Za-z ]{0,30}):(?P<value>.*)$")
_SCENE_NUMBER = re.compile(r"\s*#[\w.-]+#\s*$")
_NOTE = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
_EXTENSION = re.compile(r"\s*\([^()]*\)\s*$")
_TRANSITION = re.compile(r"^[A-Z\s.]+TO:$")


def read_fountain(
    path: str | Path,
    *,
    speaker_map: dict[str, str] | None = None,
    encoding: str | None = None,
) -> list[ImportedScene]:
    """Return the scenes of the screenplay in `path`, or raise DatasetError."""
    text = _without_comments(read_text(path, encoding))
    rows = re.split(r"\r\n|\r|\n", text)
    meta, start = _title_page(path, rows)
    cast = Cast(path, speaker_map)
    scenes: list[ImportedScene] = []
    current = _Scene(start + 1, "")
    for number, block in _paragraphs(rows, start):
        first = block[0]
        if _is_heading(first):
            if current.lines or current.heading or current.synopsis:
                scenes.append(current.finish(path, meta))
            current = _Scene(number, first.removeprefix(".").strip())
            for offset, extra in enumerate(block[1:], 1):
                current.lines.append(narration(extra, f"line {number + offset}"))
        elif first.startswith("=") and not first.startswith("==="):
            current.synopsis.extend(row.lstrip("=").strip() for row in block)
        elif first.startswith("#") or first.startswith("===") or _is_transition(first):
            continue
        elif _is_cue(block):
            current.lines.extend(_dialogue(path, cast, number, block))
        else:
            words = " ".join(_unforced(row) for row in block)
            if tidy(words):
                current.lines.append(narration(words, f"line {number}", kind="action"))
    scenes.append(current.finish(path, meta))
    if len(scenes) > 1:
        for index, scene in enumerate(scenes, 1):
            scene.title = f"{scene.title}, scene {index}"
    for scene in scenes:
        scene.speaker_names = {
            slug: name
            for slug, name in cast.names.items()
            if any(line.speaker == slug for line in scene.lines)
        }
    return scenes


class _Scene:
    """A scene while it is being read."""

    def __init__(self, number: int, heading: str) -> None:
        self.number = number
        self.heading = _SCENE_NUMBER.sub("", heading)
        self.synopsis: list[str] = []
        self.lines: list[SourceLine] = []

    def finish(self, path: str | Path, meta: dict[str, str]) -> ImportedScene:
        """Return the finished scene, or raise DatasetError if it has no lines."""
        if not self.lines:
            where = f"line {self.number}" if self.heading else ""
            raise DatasetError(path, where, "the scene has no action or dialogue")
        location, time = split_scene_heading(self.heading)
        synopsis = tidy(" ".join(self.synopsis))
        return ImportedScene(
            title=meta.get("title") or Path(path).stem,
            heading=compose_heading(location, time, synopsis),
            task=meta.get("task", ""),
            kind=meta.get("kind", "world"),
            lines=self.lines,
            source=f"{path} (line {self.number})" if self.heading else str(path),
            location=location,
            time=time,
            synopsis=synopsis,
        )


def split_scene_heading(heading: str) -> tuple[str, str]:
    """Return the location and time of `INT. CAFE JACARANDA - MORNING`, readable."""
    match = HEADING.match(heading)
    rest = match.group("rest") if match else heading
    location, sep, time = rest.rpartition(" - ")
    if not sep:
        location, time = rest, ""
    location, time = tidy(location), tidy(time)
    if location.isupper():
        location = string.capwords(location)
    if time.isupper():
        time = time.lower()
    return location, time


def compose_heading(location: str, time: str, synopsis: str) -> str:
    """Return a scene's heading paragraph: `Cafe Jacaranda, morning. Synopsis.`."""
    place = ", ".join(part for part in (location, time) if part)
    return " ".join(part for part in (f"{place}." if place else "", synopsis) if part)


def _without_comments(text: str) -> str:
    """Remove boneyard `/* */` and notes `[[ ]]`, keeping the line count."""

    def blank(match: re.Match) -> str:
        return "\n" * match.group().count("\n")

    return _NOTE.sub(blank, _BONEYARD.sub(blank, text))


def _title_page(path: str | Path, rows: list[str]) -> tuple[dict[str, str], int]:
    """Return the title-page fields (lowercase keys) and the index after the page."""
    if not rows or not _TITLE_KEY.match(rows[0]) or _is_heading(rows[0]):
        return {}, 0
    meta: dict[str, str] = {}
    found_at: dict[str, int] = {}
    key = ""
    index = 0
    for index, row in enumerate(rows):
        if not row.strip():
            break
        match = _TITLE_KEY.match(row)
        if match and not row[:1].isspace():
            key = match.group("key").strip().lower()
            meta[key] = tidy(match.group("value"))
            found_at[key] = index + 1
        elif key:
            meta[key] = tidy(f"{meta[key]} {row}")
    else:
        index = len(rows)
    kind = meta.get("kind", "").lower() or "world"
    if kind not in KINDS:
        raise DatasetError(
            path,
            f"line {found_at['kind']}",
            f"Kind must be world or council, not {kind!r}",
        )
    meta["kind"] = kind
    return meta, index


def _paragraphs(rows: list[str], start: int) -> list[tuple[int, list[str]]]:
    """Return the blank-line separated paragraphs after `start`, with line numbers."""
    paragraphs: list[tuple[int, list[str]]] = []
    block: list[str] = []
    first = 0
    for index in range(start, len(rows)):
        row = rows[index].strip()
        if row:
            if not block:
                first = index + 1
            block.append(row)
        elif block:
            paragraphs.append((first, block))
            block = []
    if block:
        paragraphs.append((first, block))
    return paragraphs


def _is_heading(row: str) -> bool:
    """Tell whether `row` is a scene heading."""
    if row.startswith(".") and not row.startswith(".."):
        return len(row) > 1
    return bool(HEADING.match(row)) and row.split()[0].rstrip(".").isupper()


def _is_transition(row: str) -> bool:
    """Tell whether `row` is a transition (CUT TO:, > FADE OUT)."""
    return bool(_TRANSITION.match(row)) or (
        row.startswith(">") and not row.endswith("<")
    )


def _is_cue(block: list[str]) -> bool:
    """Tell whether a paragraph is a dialogue block: a cue line, then more."""
    if len(block) < 2:
        return False
    cue = block[0]
    if cue.startswith("@"):
        return len(cue) > 1
    if cue.startswith("!"):
        return False
    name = _EXTENSION.sub("", cue.rstrip("^").strip())
    return any(c.isalpha() for c in name) and name == name.upper() and name.isupper()


def _unforced(row: str) -> str:
    """Return an action row without its forcing mark or centring marks."""
    row = row.removeprefix("!")
    if row.startswith(">") and row.endswith("<"):
        row = row[1:-1]
    return row.strip()


def _dialogue(
    path: str | Path, cast: Cast, number: int, block: list[str]
) -> list[SourceLine]:
    """Return the lines of a dialogue block that starts on line `number`."""
    name = _EXTENSION.sub("", block[0].removeprefix("@").rstrip("^").strip())
    if name.isupper():
        name = string.capwords(name)
    speaker = cast.slug(name, f"line {number}")
    lines: list[SourceLine] = []
    emotion: str | None = None
    direction = ""
    speech: list[str] = []
    paren_at = 0
    for offset, row in enumerate(block[1:], 1):
        where = f"line {number + offset}"
        if row.startswith("(") and row.endswith(")"):
            if speech:
                lines.append(_said(speaker, speech, number, emotion, direction))
                speech = []
            first, _, rest = row[1:-1].partition(";")
            emotion = emotion_of(path, where, first)
            direction = tidy(rest)
            paren_at = number + offset
        else:
            speech.append(row)
    if not speech:
        raise DatasetError(
            path,
            f"line {paren_at or number}",
            f"{name} has a cue but no speech after it",
        )
    lines.append(_said(speaker, speech, number, emotion, direction))
    if speaker == NARRATOR:
        for line in lines:
            line.kind = "narration"
    return lines


def _said(
    speaker: str, speech: list[str], number: int, emotion: str | None, direction: str
) -> SourceLine:
    """Return one spoken line of a dialogue block."""
    return spoken(speaker, " ".join(speech), f"line {number}", emotion, direction)
