"""Who says a subtitle: names written in the text, and a classifier for the rest."""

from __future__ import annotations

import re
from collections import Counter

from agents.promptbook import NARRATOR
from agents.training.dataset import DialogueScene
from agents.training.importers.base import SourceLine

MIN_LINES_PER_SPEAKER = 5  # a speaker the classifier may choose has this many lines
MIN_SPEAKERS = 2  # the classifier needs at least this many such speakers
MIN_CONFIDENCE = 0.5  # below this probability a line stays narration

# KENZAKI: Wait!   Kenzaki: Wait!   Mr. Ueda: Wait!   (up to three words)
_LATIN_NAME = re.compile(
    r"^(?P<name>[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,2})\s*:\s+(?P<text>\S.*)$"
)
# （剣崎）待て！  or (剣崎)待て！ — ASCII parentheses only around non-Latin names,
# since English subtitles use them for sounds: (sighs)
_PAREN_NAME = re.compile(
    r"^(?:（(?P<wide>[^（）()]{1,12})）|\((?P<narrow>[^()A-Za-z]{1,12})\))\s*"
    r"(?P<text>\S.*)$"
)
# 剣崎「待て！」  剣崎：「待て！」 — not 彼は「待て」: a name ends in no particle
_NAME_CHAR = r"[^\s「」『』:：（）()\-–—"
_QUOTE_NAME = re.compile(
    rf"^(?P<name>{_NAME_CHAR}]{{0,11}}{_NAME_CHAR}はがをにでともの])"
    r"[:：]?\s*[「『](?P<text>[^「」『』]*)[」』]?\s*$"
)
_DASH = re.compile(r"^[-‐–—]\s*")
_WIDE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_SOUND = re.compile(r"^(?:\[[^\]]*\]|\([^)]*\)|♪.*|#.*)$")


def split_name(text: str) -> tuple[str | None, str]:
    """Return the speaker name written at the start of `text` (or None) and the rest."""
    for pattern in (_QUOTE_NAME, _PAREN_NAME, _LATIN_NAME):
        match = pattern.match(text)
        if match:
            groups = match.groupdict()
            name = groups.get("name") or groups.get("wide") or groups.get("narrow")
            return name.strip(), match.group("text").strip()
    return None, text


def join_rows(first: str, second: str) -> str:
    """Join two rows of one utterance: with a space, except between CJK characters."""
    if first and second and _WIDE.match(first[-1]) and _WIDE.match(second[0]):
        return first + second
    return f"{first} {second}".strip()


def split_dashes(lines: list[str]) -> list[tuple[bool, str]]:
    """Split a subtitle's lines into utterances; True marks a dialogue-dash line."""
    parts: list[tuple[bool, str]] = []
    dashed = len(lines) > 1 and any(_DASH.match(line) for line in lines[1:])
    for line in lines:
        dash = _DASH.match(line) if dashed else None
        if dash:
            parts.append((True, line[dash.end() :]))
        elif parts:
            parts[-1] = (parts[-1][0], join_rows(parts[-1][1], line))
        else:
            parts.append((False, line))
    return parts


def is_sound(text: str) -> bool:
    """Tell whether a subtitle only describes a sound or music: [door slams], ♪."""
    return bool(_SOUND.match(text.strip()))


def attribute_speakers(
    scenes: list[DialogueScene],
    *,
    min_lines: int = MIN_LINES_PER_SPEAKER,
    min_confidence: float = MIN_CONFIDENCE,
) -> int:
    """Give unattributed lines the speaker a char n-gram classifier finds likeliest.

    The classifier learns from the named lines of the same `scenes`; it runs only
    when at least two speakers have `min_lines` lines each. Chosen lines keep the
    probability in `confidence` and are marked for review. Return how many it chose.
    """
    named = [
        line
        for scene in scenes
        for line in scene.lines
        if isinstance(line, SourceLine)
        and line.speaker != NARRATOR
        and line.attribution == "named"
    ]
    counts = Counter(line.speaker for line in named)
    speakers = {slug for slug, n in counts.items() if n >= min_lines}
    pending = [
        (scene, line)
        for scene in scenes
        for line in scene.lines
        if isinstance(line, SourceLine)
        and line.speaker == NARRATOR
        and line.attribution == ""
        and line.kind == "narration"
        and not is_sound(line.text)
    ]
    if len(speakers) < MIN_SPEAKERS or not pending:
        return 0
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    training = [line for line in named if line.speaker in speakers]
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(max_iter=1000),
    )
    model.fit([line.text for line in training], [line.speaker for line in training])
    names = {
        slug: name
        for scene in scenes
        for slug, name in scene.speaker_names.items()
        if slug in speakers
    }
    probabilities = model.predict_proba([line.text for _, line in pending])
    chosen = 0
    for (scene, line), row in zip(pending, probabilities, strict=True):
        best = int(row.argmax())
        if row[best] < min_confidence:
            continue
        line.speaker = str(model.classes_[best])
        line.kind = "dialogue"
        line.attribution = "classifier"
        line.confidence = round(float(row[best]), 3)
        scene.speaker_names.setdefault(line.speaker, names.get(line.speaker, ""))
        chosen += 1
    return chosen
