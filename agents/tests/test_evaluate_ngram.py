"""Tests of the Kneser-Ney trigram baseline."""

from __future__ import annotations

import math
import random

import pytest

from agents.training.ngram import START, KneserNeyTrigram
from agents.training.windows import IGNORE, Window


def sequences(seed: int, count: int = 40) -> list[list[int]]:
    """Return patterned token sequences over a vocabulary of 50."""
    rng = random.Random(seed)
    return [
        [t for _ in range(rng.randint(3, 8)) for t in (rng.randint(0, 9), 10, 11)]
        for _ in range(count)
    ]


def test_trigram_probabilities_sum_to_one_in_any_context():
    model = KneserNeyTrigram(vocab_size=50).fit(sequences(0))

    for context in [(START, START), (10, 11), (3, 10), (49, 48)]:
        total = sum(model.probability(*context, w) for w in range(50))
        assert total == pytest.approx(1.0)


def test_trigram_perplexity_is_finite_and_lower_on_seen_text():
    seen = sequences(0)
    model = KneserNeyTrigram(vocab_size=50).fit(seen)
    unseen = [random.Random(s).sample(range(50), 20) for s in range(10)]

    def windows(seqs):
        return [Window(ids, list(ids)) for ids in seqs]

    on_seen = model.perplexity(windows(seen))
    on_unseen = model.perplexity(windows(unseen))

    assert math.isfinite(on_unseen) and math.isfinite(on_seen)
    assert 1 < on_seen < on_unseen
    assert on_seen < 50  # better than a uniform guess


def test_trigram_scores_only_target_tokens():
    model = KneserNeyTrigram(vocab_size=50).fit(sequences(0))
    ids = [1, 10, 11, 2, 10, 11]

    nll, count = model.window_nll(Window(ids, [IGNORE, IGNORE, IGNORE, 2, 10, 11]))

    assert count == 3
    expected = -sum(
        math.log(model.probability(*ctx, w))
        for ctx, w in [((10, 11), 2), ((11, 2), 10), ((2, 10), 11)]
    )
    assert nll == pytest.approx(expected)
