"""Exporters: scenes to XTuner and Character-LLM JSONL, transcripts to SRT, WebVTT
and Fountain, character profiles to Character Card V2 (JSON and PNG).

Scene exports read back through the importers to the same scenes.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pysrt
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from agents.promptbook import EOT_TOKEN, NARRATOR, ScriptLine
from agents.training.dataset import DialogueScene
from agents.training.importers.base import format_cast, tidy
from agents.training.importers.card import (
    LIST_FIELDS,
    PNG_KEY,
    SPEC,
    SPEC_VERSION,
    TEXT_FIELDS,
    check_profile,
)
from agents.training.importers.characterllm import (
    INTERACTIONS_OPENING,
    STATUS_OPENING,
)
from agents.training.importers.fountain import HEADING
from agents.training.importers.xtuner import NARRATOR_CUE, STAGE_MARK, STAGE_RULE

MIN_DISPLAY_MS = 1500  # no subtitle shows for less
MAX_DISPLAY_MS = 7000  # nor, unless the next line is later, for more
READING_CHARS_PER_SECOND = 15  # how long a subtitle stays up, by its length
CARD_SIZE = (400, 600)  # the blank portrait of a card exported without an image
_LATIN_NAME = re.compile(r"^[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,2}$", re.ASCII)


class TranscriptEntry(Protocol):
    """A line of a performance as exporters read it; `performances.Line` is one."""

    index: int
    speaker_name: str
    text: str
    emotion: str
    direction: str
    created_at: datetime | None


@dataclass
class TranscriptLine:
    """A plain transcript line, for exporting lines that are not model rows."""

    index: int
    speaker_name: str  # the display name; empty or "Narrator" for the narrator
    text: str
    emotion: str = "calm"
    direction: str = ""
    created_at: datetime | None = None
    kind: str = "dialogue"  # dialogue|action|narration


# Scenes -------------------------------------------------------------------------


def scenes_to_xtuner(scenes: Iterable[DialogueScene]) -> str:
    """Return `scenes` as XTuner conversation JSONL, one record per scene.

    The system text states the scene; each turn's input names who speaks next and
    its output is the line, `[emotion] (direction) words`, as the stage model does.
    """
    records = []
    for scene in scenes:
        names = _display_names(scene)
        system = "\n".join(
            [
                f"{STAGE_MARK}{tidy(scene.title)}",
                f"Kind: {scene.kind}",
                f"Heading: {tidy(scene.heading)}",
                *([f"Task: {tidy(scene.task)}"] if tidy(scene.task) else []),
                f"Cast: {format_cast(names)}",
                STAGE_RULE,
            ]
        )
        turns = [
            {
                "input": NARRATOR_CUE
                if line.speaker == NARRATOR
                else names[line.speaker],
                "output": _stage_output(line),
            }
            for line in scene.lines
        ]
        if turns:
            turns[0] = {"system": system, **turns[0]}
            records.append({"conversation": turns})
    return _jsonl(records)


def scenes_to_character_llm(scenes: Iterable[DialogueScene]) -> str:
    """Return `scenes` as Character-LLM prompted JSONL, one record per scene.

    The prompt asks to act like the scene's busiest speaker and states the scene;
    the output holds every turn, `Name (emotion; direction): words<|eot|>`.
    """
    records = []
    for scene in scenes:
        if not scene.lines:
            continue
        names = _display_names(scene)
        talkers = Counter(
            line.speaker for line in scene.lines if line.speaker != NARRATOR
        )
        lead = names[talkers.most_common(1)[0][0]] if talkers else NARRATOR_CUE
        status = [
            f"Location: {tidy(scene.heading)}",
            f"Scene: {tidy(scene.title)}",
            f"Kind: {scene.kind}",
            *([f"Task: {tidy(scene.task)}"] if tidy(scene.task) else []),
            f"Cast: {format_cast(names)}",
        ]
        prompt = (
            f"I want you to act like {lead}. I want you to respond and answer like "
            f"{lead}, using the tone, manner and vocabulary {lead} would use. You "
            f"must know all of the knowledge of {lead}. \n\n{STATUS_OPENING}\n"
            + "\n".join(status)
            + f"\n\n{INTERACTIONS_OPENING}\n\n"
        )
        output = "".join(_prompted_turn(line, names) for line in scene.lines)
        source = f"stageplay:{tidy(scene.title)}"
        records.append({"prompt": prompt, "output": output, "source": source})
    return _jsonl(records)


def _display_names(scene: DialogueScene) -> dict[str, str]:
    """Return slug -> a name safe in cast lines, cues and turns, for every speaker."""
    slugs = list(scene.speaker_names) + [line.speaker for line in scene.lines]
    names = {}
    for slug in dict.fromkeys(slugs):
        if slug == NARRATOR:
            continue
        name = tidy(scene.speaker_names.get(slug, "")) or slug
        names[slug] = re.sub(r"[|:：()（）\[\]<>]", " ", name).strip() or slug
        names[slug] = tidy(names[slug])
    return names


def _emotion_given(line: ScriptLine) -> bool:
    """Tell whether the line's emotion was stated rather than a default."""
    return getattr(line, "emotion_given", True)


def _safe(text: str) -> str:
    """Return `text` tidied, with no end-of-turn token in it."""
    return tidy(text.replace(EOT_TOKEN, " "))


def _stage_output(line: ScriptLine) -> str:
    """Return a line as a stage-model output: `[emotion] (direction) words`."""
    parts = [f"[{line.emotion}]"] if _emotion_given(line) else []
    direction = re.sub(r"[()]", "", tidy(line.direction))
    if direction:
        parts.append(f"({direction})")
    elif _safe(line.text).startswith("("):
        parts.append("()")  # so the words are not read as a direction
    parts.append(_safe(line.text))
    return " ".join(parts)


def _prompted_turn(line: ScriptLine, names: dict[str, str]) -> str:
    """Return a line as a Character-LLM turn: `Name (emotion; direction): words`."""
    name = NARRATOR_CUE if line.speaker == NARRATOR else names[line.speaker]
    direction = re.sub(r"[()（）]", "", tidy(line.direction))
    action = "; ".join(
        part
        for part in (line.emotion if _emotion_given(line) else "", direction)
        if part
    )
    staged = f" ({action})" if action else ""
    return f"{name}{staged}: {_safe(line.text)}{EOT_TOKEN}\n"


def _jsonl(records: list[dict]) -> str:
    """Return `records` as JSON Lines."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# Transcripts --------------------------------------------------------------------


def _is_narration(line: TranscriptEntry) -> bool:
    """Tell whether a transcript line is the narrator's."""
    kind = getattr(line, "kind", "dialogue")
    name = tidy(line.speaker_name).lower()
    return kind in ("action", "narration") or name in ("", NARRATOR)


def _timings(lines: Sequence[TranscriptEntry]) -> list[tuple[int, int]]:
    """Return (start, end) in ms for each line, relative to the first line's time."""
    starts: list[int] = []
    first = next((line.created_at for line in lines if line.created_at), None)
    for line in lines:
        if line.created_at and first:
            start = int((line.created_at - first).total_seconds() * 1000)
        elif starts:
            start = starts[-1] + MIN_DISPLAY_MS
        else:
            start = 0
        starts.append(max(start, starts[-1] if starts else 0))
    timings = []
    for position, (line, start) in enumerate(zip(lines, starts, strict=True)):
        reading = len(line.text) * 1000 // READING_CHARS_PER_SECOND
        duration = min(max(reading, MIN_DISPLAY_MS), MAX_DISPLAY_MS)
        if position + 1 < len(starts):
            duration = min(duration, starts[position + 1] - start)
        timings.append((start, start + max(duration, MIN_DISPLAY_MS)))
    return timings


def _ordered(lines: Iterable[TranscriptEntry]) -> list[TranscriptEntry]:
    """Return the transcript lines in index order."""
    return sorted(lines, key=lambda line: line.index)


def transcript_to_srt(lines: Iterable[TranscriptEntry]) -> str:
    """Return a transcript as SubRip subtitles, timed from the lines' creation."""
    ordered = _ordered(lines)
    items = pysrt.SubRipFile()
    for number, (line, (start, end)) in enumerate(
        zip(ordered, _timings(ordered), strict=True), 1
    ):
        items.append(
            pysrt.SubRipItem(
                index=number,
                start=pysrt.SubRipTime.from_ordinal(start),
                end=pysrt.SubRipTime.from_ordinal(end),
                text=_subtitle_text(line),
            )
        )
    out = io.StringIO()
    items.write_into(out, eol="\n")
    return out.getvalue()


def _subtitle_text(line: TranscriptEntry) -> str:
    """Return a line as subtitle text, its speaker named the way importers read it."""
    text = tidy(line.text)
    if _is_narration(line):
        return f"<i>{text}</i>"
    name = tidy(line.speaker_name)
    return f"{name}: {text}" if _LATIN_NAME.match(name) else f"（{name}）{text}"


def transcript_to_vtt(lines: Iterable[TranscriptEntry]) -> str:
    """Return a transcript as WebVTT, each line a cue with its speaker's voice."""
    ordered = _ordered(lines)
    cues = ["WEBVTT", ""]
    for number, (line, (start, end)) in enumerate(
        zip(ordered, _timings(ordered), strict=True), 1
    ):
        text = _vtt_escape(tidy(line.text))
        if _is_narration(line):
            body = f"<i>{text}</i>"
        else:
            voice = re.sub(r"[<>&]", "", tidy(line.speaker_name))
            body = f"<v {voice}>{text}</v>"
        cues += [str(number), f"{_vtt_time(start)} --> {_vtt_time(end)}", body, ""]
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    """Return `text` with WebVTT's markup characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_time(ms: int) -> str:
    """Return milliseconds as a WebVTT timestamp, `00:01:02.345`."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def transcript_to_fountain(
    lines: Iterable[TranscriptEntry],
    *,
    title: str,
    heading: str = "",
    synopsis: str = "",
    task: str = "",
    kind: str = "world",
) -> str:
    """Return a transcript as a Fountain screenplay that `read_fountain` reads back.

    `heading` is a scene heading such as `INT. CAFE JACARANDA - MORNING`; any
    other text is written as a forced heading.
    """
    page = [f"Title: {tidy(title)}", f"Kind: {kind}"]
    if tidy(task):
        page.append(f"Task: {tidy(task)}")
    blocks = ["\n".join(page)]
    if tidy(heading):
        heading = tidy(heading)
        blocks.append(heading if HEADING.match(heading) else f".{heading}")
    if tidy(synopsis):
        blocks.append(f"= {tidy(synopsis)}")
    for line in _ordered(lines):
        text = tidy(line.text)
        if _is_narration(line):
            blocks.append(f"!{text}")
            continue
        name = tidy(line.speaker_name)
        cue = name.upper() if re.search("[A-Za-z]", name) else f"@{name}"
        direction = re.sub(r"[()]", "", tidy(line.direction))
        paren = f"({line.emotion}; {direction})" if direction else f"({line.emotion})"
        if text.startswith("(") and text.endswith(")"):
            text = f"{text[1:-1]}"
        blocks.append(f"{cue}\n{paren}\n{text}")
    return "\n\n".join(blocks) + "\n"


# Character cards ----------------------------------------------------------------


def profile_to_card(profile: dict[str, Any]) -> dict[str, Any]:
    """Return a Character Card V2 for `profile`, missing fields filled with blanks."""
    check_profile("profile", profile)
    data: dict[str, Any] = {key: "" for key in TEXT_FIELDS}
    data.update({key: [] for key in LIST_FIELDS})
    data["extensions"] = {}
    data.update(copy.deepcopy(profile))
    return {"spec": SPEC, "spec_version": SPEC_VERSION, "data": data}


def profile_to_card_json(profile: dict[str, Any]) -> str:
    """Return `profile` as a Character Card V2 JSON document."""
    return json.dumps(profile_to_card(profile), ensure_ascii=False, indent=2) + "\n"


def profile_to_card_png(profile: dict[str, Any], image: bytes | None = None) -> bytes:
    """Return `profile` as a PNG card: `image` (or a blank one) with a `chara` chunk."""
    card = json.dumps(profile_to_card(profile), ensure_ascii=False)
    info = PngInfo()
    info.add_text(PNG_KEY, base64.b64encode(card.encode("utf-8")).decode("ascii"))
    picture = (
        Image.open(io.BytesIO(image))
        if image
        else Image.new("RGB", CARD_SIZE, (91, 108, 143))
    )
    out = io.BytesIO()
    with picture:
        picture.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
