"""Read ChatHaruhi line files: `角色:「台词」` per line, other lines narration."""

from __future__ import annotations

import re
from pathlib import Path

from agents.training.importers.base import (
    Cast,
    DatasetError,
    ImportedScene,
    SourceLine,
    narration,
    read_text,
    spoken,
    tidy,
)

LINE = re.compile(
    r"^(?P<name>[^:：「」『』\n]{1,40}?)\s*[:：]\s*[「『](?P<text>.*)[」』]\s*$"
)


def read_chatharuhi(
    path: str | Path,
    *,
    speaker_map: dict[str, str] | None = None,
    encoding: str | None = None,
) -> ImportedScene:
    """Return the lines of `path` as one scene, or raise DatasetError."""
    cast = Cast(path, speaker_map)
    lines: list[SourceLine] = []
    quoted = 0
    for number, raw in enumerate(read_text(path, encoding).splitlines(), 1):
        where = f"line {number}"
        if not raw.strip():
            continue
        match = LINE.match(raw.strip())
        if match is None:
            lines.append(narration(raw, where))
            continue
        words = tidy(match.group("text"))
        if not words:
            raise DatasetError(path, where, "the quotation marks hold no words")
        lines.append(spoken(cast.slug(match.group("name"), where), words, where))
        quoted += 1
    if not quoted:
        raise DatasetError(
            path, "", "no line reads '角色:「台词」': is this a ChatHaruhi file?"
        )
    return ImportedScene(
        title=Path(path).stem, lines=lines, source=str(path), speaker_names=cast.names
    )
