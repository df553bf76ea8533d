"""Tests of the text metrics and the speaker classifier used by the evaluation."""

from __future__ import annotations

import pytest

from agents.training.metrics import (
    bleu,
    copies,
    distinct_n,
    echoes,
    ngram_index,
    rouge_l,
    words,
)
from agents.training.speaker_id import CORE_CAST, SpeakerClassifier
from agents.training.splits import split_scenes
from agents.training.toy import toy_scenes


def test_words_drop_case_and_punctuation_but_keep_contractions():
    assert words("Don't get in MY way!") == ["don't", "get", "in", "my", "way"]


def test_rouge_l_is_the_f1_of_the_longest_common_subsequence():
    assert rouge_l("the cat sat", "the cat sat") == 1.0
    assert rouge_l("nothing shared", "the cat sat") == 0.0
    # LCS "the sat" = 2; precision 2/3, recall 2/4
    assert rouge_l("the dog sat", "the cat really sat") == pytest.approx(4 / 7)


def test_distinct_n_counts_unique_ngrams_over_all_generated_lines():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b", "a b"], 2) == 0.5
    assert distinct_n([], 2) == 0.0


def test_bleu_is_full_for_identical_lines_and_low_for_unrelated_ones():
    lines = ["I will protect everyone no matter what happens", "Leave me alone now"]
    assert bleu(lines, lines) == pytest.approx(100.0)
    assert bleu(["bananas are yellow today"], [lines[0]]) < 5


def test_copying_needs_eight_words_in_a_row_and_echo_needs_six():
    index = ngram_index(["one two three four five six seven eight nine"])

    assert copies("so, one two three four five six seven eight!", index)
    assert not copies("one two three four five six seven nine", index)
    task = "How can a bakery welcome a shy new baker?"
    assert echoes("Well: a bakery welcome a shy new baker, you say.", task)
    assert not echoes("Let the shy baker choose her own shift.", task)


def test_speaker_classifier_tells_distinct_voices_apart():
    train, held = split_scenes(toy_scenes(20), 0.25, seed=1)
    classifier = SpeakerClassifier().fit([line for s in train for line in s.lines])
    real = [line for s in held for line in s.lines if line.speaker in CORE_CAST]

    accuracy = classifier.accuracy([x.text for x in real], [x.speaker for x in real])

    assert accuracy is not None and accuracy > 0.9
    assert classifier.accuracy([], []) is None
    with pytest.raises(ValueError, match="two of"):
        SpeakerClassifier().fit([line for line in real if line.speaker == "hajime"])
