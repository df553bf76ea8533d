"""A token trigram baseline with interpolated Kneser-Ney smoothing."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from agents.training.windows import IGNORE, Window

START = -1  # the id standing before a sequence's first token


class KneserNeyTrigram:
    """An interpolated Kneser-Ney trigram model of token ids, over a uniform floor."""

    def __init__(self, vocab_size: int, discount: float = 0.75) -> None:
        self.vocab_size = vocab_size
        self.discount = discount
        self.trigrams: Counter[tuple[int, int, int]] = Counter()
        self.context: Counter[tuple[int, int]] = Counter()  # c(u v .)
        self.followers: Counter[tuple[int, int]] = Counter()  # N1+(u v .)
        self.bigrams: Counter[tuple[int, int]] = Counter()  # N1+(. v w)
        self.bigram_context: Counter[int] = Counter()  # sum over w of N1+(. v w)
        self.bigram_followers: Counter[int] = Counter()  # N1+(v .) among continuations
        self.unigrams: Counter[int] = Counter()  # N1+(. w) over bigram types
        self.unigram_total = 0

    def fit(self, sequences: Iterable[list[int]]) -> KneserNeyTrigram:
        """Count the trigrams of `sequences` and derive the continuation counts."""
        for ids in sequences:
            padded = [START, START, *ids]
            for i in range(2, len(padded)):
                self.trigrams[(padded[i - 2], padded[i - 1], padded[i])] += 1
        preceding: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
        for (u, v, w), count in self.trigrams.items():
            self.context[(u, v)] += count
            self.followers[(u, v)] += 1
            preceding[(v, w)].add(u)
        for (v, w), before in preceding.items():
            self.bigrams[(v, w)] = len(before)
            self.bigram_context[v] += len(before)
            self.bigram_followers[v] += 1
            self.unigrams[w] += 1
        self.unigram_total = sum(self.unigrams.values())
        return self

    def _unigram(self, w: int) -> float:
        floor = 1.0 / self.vocab_size
        if not self.unigram_total:
            return floor
        d = self.discount
        seen = max(self.unigrams[w] - d, 0.0) / self.unigram_total
        return seen + d * len(self.unigrams) / self.unigram_total * floor

    def _bigram(self, v: int, w: int) -> float:
        total = self.bigram_context[v]
        if not total:
            return self._unigram(w)
        d = self.discount
        seen = max(self.bigrams[(v, w)] - d, 0.0) / total
        return seen + d * self.bigram_followers[v] / total * self._unigram(w)

    def probability(self, u: int, v: int, w: int) -> float:
        """Return P(w | u v)."""
        total = self.context[(u, v)]
        if not total:
            return self._bigram(v, w)
        d = self.discount
        seen = max(self.trigrams[(u, v, w)] - d, 0.0) / total
        return seen + d * self.followers[(u, v)] / total * self._bigram(v, w)

    def window_nll(self, window: Window) -> tuple[float, int]:
        """Return the negative log-likelihood of the window's targets, and a count."""
        padded = [START, START, *window.input_ids]
        total, count = 0.0, 0
        for t, label in enumerate(window.labels):
            if label != IGNORE:
                total -= math.log(self.probability(padded[t], padded[t + 1], label))
                count += 1
        return total, count

    def perplexity(self, windows: list[Window]) -> float:
        """Return the perplexity on the targets of `windows`, as the model is scored."""
        total, count = 0.0, 0
        for window in windows:
            nll, n = self.window_nll(window)
            total += nll
            count += n
        return math.exp(total / count) if count else math.nan
