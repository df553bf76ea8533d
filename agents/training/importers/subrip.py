"""Read SubRip (.srt) subtitles, strictly, into one scene with speakers attributed."""

from __future__ import annotations

import re
from pathlib import Path

import pysrt

from agents.promptbook import NARRATOR
from agents.training.importers.attribution import split_dashes, split_name
from agents.training.importers.base import (
    DEFAULT_EMOTION,
    Cast,
    DatasetError,
    ImportedScene,
    SourceLine,
    narration,
    read_text,
    tidy,
)

_TIME = r"(\d+):(\d\d):(\d\d)[,.](\d{1,3})"
_TIMING = re.compile(rf"^{_TIME}\s*-->\s*{_TIME}(?:\s+\S.*)?$")
_TAGS = re.compile(r"<[^<>]{0,200}>|\{\\[^{}]{0,200}\}")


def read_subtitles(
    path: str | Path,
    *,
    speaker_map: dict[str, str] | None = None,
    encoding: str | None = None,
) -> ImportedScene:
    """Return the subtitles in `path` as one scene, or raise DatasetError.

    Every block must be a number, a valid timing (end not before start) and text.
    Speakers come from the text (`KENZAKI: ...`, `（剣崎）...`, `剣崎「...」`,
    dialogue dashes); lines with none are narration for `attribute_speakers`.
    """
    text = read_text(path, encoding)
    blocks = _blocks(path, text)
    try:
        items = pysrt.SubRipFile.from_string(
            text, error_handling=pysrt.SubRipFile.ERROR_RAISE
        )
    except pysrt.Error as exc:
        line = exc.args[0] + 1 if exc.args and isinstance(exc.args[0], int) else None
        raise DatasetError(
            path, f"line {line}" if line else "", "not a valid subtitle block"
        ) from None
    if len(items) != len(blocks):
        raise DatasetError(
            path,
            "",
            f"{len(blocks)} subtitle blocks but only {len(items)} could be read: "
            "check for stray text between subtitles",
        )
    cast = Cast(path, speaker_map)
    lines: list[SourceLine] = []
    for (number, _), item in zip(blocks, items, strict=True):
        lines.extend(_item_lines(cast, number, item))
    if not lines:
        raise DatasetError(path, "", "the subtitles hold no text")
    _alternate_dashes(lines)
    return ImportedScene(
        title=Path(path).stem,
        lines=lines,
        source=str(path),
        speaker_names=cast.names,
    )


def _blocks(path: str | Path, text: str) -> list[tuple[int, list[str]]]:
    """Return the blank-line separated blocks of `text`, each validated strictly."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    if not blocks:
        raise DatasetError(path, "", "the file is empty")
    for start, block in blocks:
        _check_block(path, start, block)
    return blocks


def _check_block(path: str | Path, start: int, block: list[str]) -> None:
    """Raise DatasetError unless `block` is a number, a valid timing line and text."""
    if not block[0].isdigit():
        raise DatasetError(
            path,
            f"line {start}",
            f"expected a subtitle number, found {block[0][:40]!r} (a blank line "
            "inside a subtitle, or a missing number?)",
        )
    if len(block) < 2:
        raise DatasetError(path, f"line {start}", "subtitle number without a timing")
    match = _TIMING.match(block[1])
    if not match:
        raise DatasetError(
            path,
            f"line {start + 1}",
            f"malformed timing {block[1][:60]!r}: expected "
            "'00:00:01,000 --> 00:00:02,500'",
        )
    groups = match.groups()
    if any(int(groups[i]) > 59 for i in (1, 2, 5, 6)):
        raise DatasetError(
            path,
            f"line {start + 1}",
            f"malformed timing {block[1][:60]!r}: minutes and seconds run to 59",
        )
    if _millis(groups[4:]) < _millis(groups[:4]):
        raise DatasetError(
            path, f"line {start + 1}", f"the subtitle ends before it starts: {block[1]}"
        )


def _millis(parts: tuple[str, ...]) -> int:
    """Return the hours, minutes, seconds and fraction matched in a timing, in ms."""
    hours, minutes, seconds, fraction = parts
    whole = (int(hours) * 60 + int(minutes)) * 60 + int(seconds)
    return whole * 1000 + int(fraction.ljust(3, "0"))


def _item_lines(cast: Cast, number: int, item: pysrt.SubRipItem) -> list[SourceLine]:
    """Return the script lines of one subtitle, speakers taken from its text."""
    where = f"line {number}"
    raw = [_TAGS.sub("", line).strip() for line in item.text.splitlines()]
    raw = [line for line in raw if line]
    lines = []
    for dash, utterance in split_dashes(raw):
        name, spoken = split_name(tidy(utterance))
        if not spoken:
            continue
        if name is None:
            line = narration(spoken, where)
            # an unnamed dash line after another one in the same subtitle
            line.attribution = "dash" if dash and lines else ""
        else:
            line = SourceLine(
                speaker=cast.slug(name, where),
                text=tidy(spoken),
                emotion=DEFAULT_EMOTION,
                emotion_given=False,
                where=where,
            )
        line.start_ms, line.end_ms = item.start.ordinal, item.end.ordinal
        lines.append(line)
    return lines


def _alternate_dashes(lines: list[SourceLine]) -> None:
    """Give an unnamed dash line, after one by X, the latest speaker other than X."""
    recent: list[str] = []  # the latest distinct speakers, newest last
    for index, line in enumerate(lines):
        if line.attribution == "dash":
            line.attribution = ""
            previous = lines[index - 1].speaker if index else NARRATOR
            others = [s for s in recent if s != previous]
            if previous != NARRATOR and others:
                line.speaker = others[-1]
                line.kind = "dialogue"
                line.attribution = "dashes"
        if line.speaker != NARRATOR:
            if line.speaker in recent:
                recent.remove(line.speaker)
            recent.append(line.speaker)
