"""Emotion of lines: parsed from the model's output, else recognised from the text."""

from __future__ import annotations

import re
from functools import cache

from agents.promptbook import EMOTIONS, parse_line

DEFAULT_EMOTION = "calm"
VALENCE_THRESHOLD = 0.3  # |VADER compound| at which text counts as clearly valenced

# Cue words and phrases per emotion; VADER alone cannot tell fear from sadness,
# or see surprise and determination at all.
CUES: dict[str, tuple[str, ...]] = {
    "joy": (
        r"we did it",
        r"glad",
        r"happy",
        r"wonderful",
        r"great news",
        r"thank(s| you)",
        r"well done",
        r"hooray",
        r"delicious",
        r"i love",
        r"ha(ha)+",
    ),
    "anger": (
        r"enough",
        r"damn",
        r"how dare",
        r"stay out",
        r"get out",
        r"out of my way",
        r"shut up",
        r"i hate",
        r"furious",
        r"idiot",
        r"back off",
        r"don't you dare",
    ),
    "sadness": (
        r"sad",
        r"sorry",
        r"i miss",
        r"lost (him|her|them|everything)",
        r"alone",
        r"lonely",
        r"tears",
        r"crying",
        r"why does nobody",
        r"nobody listens",
        r"regret",
        r"gone forever",
    ),
    "fear": (
        r"afraid",
        r"scared",
        r"fear",
        r"terrified",
        r"frightened",
        r"trembl\w*",
        r"danger(ous)?",
        r"not ready",
        r"too late",
        r"worr(y|ied|ies)",
        r"nervous",
        r"what if",
        r"run for it",
    ),
    "surprise": (
        r"you again",
        r"no way",
        r"really\?",
        r"what\?",
        r"(did not|didn't|never) expect\w*",
        r"unexpected",
        r"suddenly",
        r"impossible",
        r"how did (you|he|she|they)",
        r"\?!|!\?",
    ),
    "determination": (
        r"i will",
        r"i'll",
        r"we will",
        r"we'll",
        r"i won't",
        r"we won't",
        r"must",
        r"promise",
        r"give up",
        r"let's go",
        r"no matter what",
        r"whatever it takes",
        r"protect",
        r"i swear",
        r"i('m| am) going to",
    ),
    "calm": (
        r"breathe",
        r"calm down",
        r"take it easy",
        r"slowly",
        r"think (before|first|it through)",
        r"relax",
        r"steady",
        r"quietly",
    ),
}
_CUE_RES = {
    emotion: re.compile(r"(?<!\w)(?:" + "|".join(cues) + r")(?!\w)", re.IGNORECASE)
    for emotion, cues in CUES.items()
}


@cache
def _analyzer():
    """Return the VADER sentiment analyser, loaded once per process."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def valence(text: str) -> float:
    """Return the VADER compound valence of `text`, from -1 (negative) to 1."""
    return float(_analyzer().polarity_scores(text)["compound"])


def emotion_scores(text: str) -> dict[str, float]:
    """Return a score per emotion: cue words found, plus a vote from the valence."""
    scores = {emotion: float(len(_CUE_RES[emotion].findall(text))) for emotion in CUES}
    compound = valence(text)
    if compound >= VALENCE_THRESHOLD:
        scores["joy"] += 0.5
    elif compound <= -VALENCE_THRESHOLD:
        angry = "!" in text or scores["anger"] > 0
        scores["anger" if angry else "sadness"] += 0.5
    return scores


def emotion_recognise(text: str, default: str = DEFAULT_EMOTION) -> str:
    """Return the emotion of `text` (human, audience or model speech) from EMOTIONS.

    Cue words decide first; VADER valence breaks ties and decides alone when no cue
    is present; text with neither reads as `default`.
    """
    if default not in EMOTIONS:
        raise ValueError(f"Unknown emotion {default!r}; choose one of {EMOTIONS}.")
    scores = emotion_scores(text)
    best = max(scores.values())
    if best <= 0:
        return default
    # Ties go to the emotion listed first in EMOTIONS, so the answer is stable.
    return next(emotion for emotion in EMOTIONS if scores[emotion] == best)


def line_emotion(raw: str, default: str = DEFAULT_EMOTION) -> tuple[str, str]:
    """Return (emotion, how) for generated `raw` text: `given` when the model named
    one of EMOTIONS, else `recognised` from the spoken text."""
    parsed = parse_line(raw)
    if parsed.emotion in EMOTIONS:
        return parsed.emotion, "given"
    return emotion_recognise(parsed.text, default=default), "recognised"
