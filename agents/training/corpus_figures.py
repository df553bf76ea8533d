"""Print the corpus figures: scenes, lines per speaker, emotions, directions, diversity.

    .venv/bin/python -m agents.training.corpus_figures [--corpus DIR] [--json]

Exits non-zero when the corpus misses one of its bars, naming which.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from agents.promptbook import NARRATOR
from agents.training.corpus import CORPUS_DIR, load_corpus
from agents.training.dataset import DialogueScene

CORE = ("kenzaki", "tachibana", "hajime", "mutsuki")
BARS = {
    "scenes": 150,  # at least this many scenes
    "dialogue_lines": 8000,  # at least this many dialogue lines
    "core_lines_each": 1500,  # at least this many lines for each core character
    "distinct_2": 0.45,  # corpus distinct-2 at least this
    "max_repeats": 3,  # no line repeated more than this
}


def words(text: str) -> list[str]:
    """Return the lowercase word tokens of `text`."""
    return text.lower().split()


def corpus_figures(scenes: list[DialogueScene]) -> dict:
    """Return the corpus figures of `scenes` as a JSON-ready dict."""
    dialogue = [line for s in scenes for line in s.lines if line.speaker != NARRATOR]
    speakers = Counter(line.speaker for line in dialogue)
    emotions = Counter(line.emotion for line in dialogue)
    bigrams = [
        pair
        for line in dialogue
        for pair in zip(words(line.text), words(line.text)[1:], strict=False)
    ]
    unigrams = [w for line in dialogue for w in words(line.text)]
    repeats = Counter(" ".join(words(line.text)) for line in dialogue)
    kinds = Counter(s.kind for s in scenes)
    titles = Counter(s.title for s in scenes)
    return {
        "scenes": len(scenes),
        "scene_kinds": dict(kinds),
        "dialogue_lines": len(dialogue),
        "lines_by_speaker": dict(speakers.most_common()),
        "core_lines_min": min(speakers.get(slug, 0) for slug in CORE),
        "emotions": dict(emotions.most_common()),
        "with_direction": round(
            sum(1 for x in dialogue if x.direction) / len(dialogue), 3
        )
        if dialogue
        else 0.0,
        "distinct_1": round(len(set(unigrams)) / max(1, len(unigrams)), 4),
        "distinct_2": round(len(set(bigrams)) / max(1, len(bigrams)), 4),
        "max_repeats": max(repeats.values(), default=0),
        "most_repeated": repeats.most_common(1)[0][0] if repeats else "",
        "repeated_titles": sorted(t for t, n in titles.items() if n > 1),
    }


def bars_missed(figures: dict) -> list[str]:
    """Return a sentence for each bar the corpus does not reach."""
    missed = []
    if figures["scenes"] < BARS["scenes"]:
        missed.append(f"{figures['scenes']} scenes < {BARS['scenes']}")
    if figures["dialogue_lines"] < BARS["dialogue_lines"]:
        missed.append(f"{figures['dialogue_lines']} lines < {BARS['dialogue_lines']}")
    if figures["core_lines_min"] < BARS["core_lines_each"]:
        missed.append(
            f"a core character has {figures['core_lines_min']} lines "
            f"< {BARS['core_lines_each']}"
        )
    if figures["distinct_2"] < BARS["distinct_2"]:
        missed.append(f"distinct-2 {figures['distinct_2']} < {BARS['distinct_2']}")
    if figures["repeated_titles"]:  # the held-out split goes by title
        missed.append(
            "titles used by more than one scene: "
            + ", ".join(figures["repeated_titles"])
        )
    if figures["max_repeats"] > BARS["max_repeats"]:
        missed.append(
            f"{figures['most_repeated']!r} repeated {figures['max_repeats']} times"
        )
    return missed


def main(argv: list[str] | None = None) -> int:
    """Print the figures of the corpus; return 1 when a bar is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    figures = corpus_figures(load_corpus(args.corpus))
    missed = bars_missed(figures)
    if args.json:
        print(json.dumps({**figures, "bars_missed": missed}, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value}")
        print("     bars: " + ("all reached" if not missed else "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
