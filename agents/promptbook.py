"""The prompt book: the text format the stage model reads and writes, with no Django."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EMOTIONS = ("joy", "anger", "sadness", "fear", "surprise", "determination", "calm")
NARRATOR = "narrator"

SCENE_TOKEN = "<|scene|>"
TASK_TOKEN = "<|task|>"
EOT_TOKEN = "<|eot|>"
PAD_TOKEN = "<|pad|>"
OTHER_SPEAKER = "other"

_CUE_RE = re.compile(
    r"^\s*(?:\[(?P<emotion>[a-z]+)\]|<\|(?P<emotion_tok>[a-z]+)\|>)?\s*"
)
_DIRECTION_RE = re.compile(r"^\((?P<direction>[^()]{0,200})\)\s*")


def speaker_token(slug: str) -> str:
    """Return the special token that opens a line by the speaker `slug`."""
    return f"<|{slug}|>"


def emotion_token(emotion: str) -> str:
    """Return the special token that carries `emotion`."""
    return f"<|{emotion}|>"


def special_tokens(speakers: list[str]) -> list[str]:
    """Return every special token for a cast of `speakers` (slugs), in order."""
    fixed = [PAD_TOKEN, EOT_TOKEN, SCENE_TOKEN, TASK_TOKEN]
    everyone = sorted(set(speakers) | {NARRATOR, OTHER_SPEAKER})
    cast = [speaker_token(s) for s in everyone]
    return fixed + cast + [emotion_token(e) for e in EMOTIONS]


@dataclass
class ScriptLine:
    """One line of a script: who speaks, with which emotion and stage direction."""

    speaker: str  # a slug, or NARRATOR
    text: str
    emotion: str = "calm"
    direction: str = ""


@dataclass
class Cue:
    """Everything a stage model needs to speak the next line of a scene."""

    speaker: str  # slug of the character who speaks next
    heading: str = ""  # location, time and situation, one paragraph
    task: str = ""  # the council's problem, when there is one
    lines: list[ScriptLine] = field(default_factory=list)  # the transcript so far


def render_line(line: ScriptLine) -> str:
    """Return `line` in the prompt-book format, ending with the end-of-turn token."""
    direction = f"({line.direction}) " if line.direction else ""
    return (
        f"{speaker_token(line.speaker)}{emotion_token(line.emotion)}"
        f"{direction}{line.text.strip()}{EOT_TOKEN}"
    )


def render_header(heading: str, task: str = "") -> str:
    """Return the scene header that opens every sequence."""
    text = f"{SCENE_TOKEN}{heading.strip()}"
    if task:
        text += f"{TASK_TOKEN}{task.strip()}"
    return text + "\n"


def render_cue(cue: Cue) -> str:
    """Return the prompt for `cue`: header, transcript, then the speaker's token."""
    body = "".join(render_line(line) + "\n" for line in cue.lines)
    return render_header(cue.heading, cue.task) + body + speaker_token(cue.speaker)


@dataclass
class ParsedLine:
    """A generated line split into emotion, stage direction and spoken text."""

    text: str
    emotion: str | None  # None when the output named no known emotion
    direction: str = ""


def parse_line(raw: str) -> ParsedLine:
    """Split model output such as `[anger] (slams the desk) Enough!` into its parts."""
    raw = raw.split(EOT_TOKEN, 1)[0]
    emotion = None
    match = _CUE_RE.match(raw)
    found = match.group("emotion") or match.group("emotion_tok")
    rest = raw.lstrip()
    if found in EMOTIONS:
        emotion = found
        rest = raw[match.end() :]
    direction = ""
    dmatch = _DIRECTION_RE.match(rest)
    if dmatch:
        direction = dmatch.group("direction").strip()
        rest = rest[dmatch.end() :]
    return ParsedLine(text=" ".join(rest.split()), emotion=emotion, direction=direction)
