"""Transcript exports of a performance: JSON, SubRip, WebVTT and Fountain."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from agents.training.exporters import (
    TranscriptLine,
    transcript_to_fountain,
    transcript_to_srt,
    transcript_to_vtt,
)
from performances.models import Performance
from performances.selectors import line_frame, transcript_get

# Explicit bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
# in a subtitle or script they could reorder what a reader sees.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# SubRip has no escapes, and players read <b>, <i>, <font> (some any tag) as markup:
# in spoken text, angle brackets become their fullwidth forms.
SUBRIP_BRACKETS = str.maketrans({"<": "\uff1c", ">": "\uff1e"})


@dataclass(frozen=True)
class ExportFormat:
    """One export format: its media type and file extension."""

    name: str  # json | srt | vtt | fountain
    media_type: str
    extension: str


FORMATS = {
    f.name: f
    for f in (
        ExportFormat("json", "application/json", "json"),
        ExportFormat("srt", "application/x-subrip", "srt"),
        ExportFormat("vtt", "text/vtt", "vtt"),
        ExportFormat("fountain", "text/plain", "fountain"),
    )
}


@dataclass(frozen=True)
class Export:
    """A rendered export: the document, its media type and a file name."""

    body: str
    media_type: str
    filename: str


def _plain(text: str) -> str:
    """Return `text` without bidi control characters."""
    return BIDI_CONTROLS.sub("", text)


def _no_tags(text: str) -> str:
    """Return `text` with angle brackets a subtitle player cannot read as tags."""
    return text.translate(SUBRIP_BRACKETS)


def _text_lines(performance: Performance, clean=_plain) -> list[TranscriptLine]:
    """Return the transcript as exporter lines, passed through `clean`."""
    return [
        TranscriptLine(
            index=line.index,
            speaker_name=clean(line.speaker_name),
            text=clean(line.text),
            emotion=line.emotion,
            direction=clean(line.direction),
            created_at=line.created_at,
            kind=line.kind,
        )
        for line in transcript_get(performance=performance)
    ]


def transcript_export(*, performance: Performance, fmt: str) -> Export:
    """Return `performance`'s transcript in the format `fmt` (see FORMATS)."""
    spec = FORMATS[fmt]
    scene = performance.scene
    if fmt == "json":
        document = {
            "performance": performance.pk,
            "scene": scene.slug,
            "title": scene.title,
            "status": performance.status,
            "lines": [
                line_frame(line) for line in transcript_get(performance=performance)
            ],
        }
        body = json.dumps(document, ensure_ascii=True, indent=2) + "\n"
    elif fmt == "srt":
        body = transcript_to_srt(
            _text_lines(performance, clean=lambda t: _no_tags(_plain(t)))
        )
    elif fmt == "vtt":
        body = transcript_to_vtt(_text_lines(performance))
    else:
        place = " - ".join(p for p in (scene.location, scene.time) if p.strip())
        body = transcript_to_fountain(
            _text_lines(performance),
            title=_plain(scene.title),
            heading=_plain(place.upper()),
            synopsis=_plain(scene.synopsis),
            task=_plain(scene.task),
            kind=scene.kind,
        )
    filename = f"performance-{performance.pk}.{spec.extension}"
    return Export(body=body, media_type=spec.media_type, filename=filename)
