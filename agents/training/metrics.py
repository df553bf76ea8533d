"""Text metrics for generated lines: overlap, diversity and copying, over words."""

from __future__ import annotations

import re
from collections.abc import Iterable

import sacrebleu

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def words(text: str) -> list[str]:
    """Return the lower-cased words of `text`, punctuation dropped."""
    return _WORD_RE.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """Return the n-grams of `tokens` in order."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Return distinct-n: unique n-grams over all n-grams of `texts` (0 when none)."""
    grams = [gram for text in texts for gram in ngrams(words(text), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def rouge_l(candidate: str, reference: str) -> float:
    """Return the ROUGE-L F1 of `candidate` against `reference`, over words."""
    cand, ref = words(candidate), words(reference)
    if not cand or not ref:
        return 0.0
    previous = [0] * (len(ref) + 1)  # longest common subsequence, row by row
    for word in cand:
        current = [0]
        for j, other in enumerate(ref):
            current.append(
                previous[j] + 1 if word == other else max(previous[j + 1], current[j])
            )
        previous = current
    lcs = previous[-1]
    if not lcs:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def bleu(candidates: list[str], references: list[str]) -> float:
    """Return corpus BLEU (sacrebleu, 0-100) of `candidates`, one reference each."""
    if not candidates:
        return 0.0
    return float(sacrebleu.corpus_bleu(candidates, [references]).score)


def ngram_index(texts: Iterable[str], n: int = 8) -> set[tuple[str, ...]]:
    """Return every word n-gram of `texts`, to look copied passages up in."""
    return {gram for text in texts for gram in ngrams(words(text), n)}


def copies(text: str, index: set[tuple[str, ...]], n: int = 8) -> bool:
    """Return whether `text` contains a word n-gram found in `index`."""
    return any(gram in index for gram in ngrams(words(text), n))


def echoes(text: str, source: str, n: int = 6) -> bool:
    """Return whether `text` repeats `n` or more consecutive words of `source`."""
    return copies(text, ngram_index([source], n), n)
