"""Emotion: parsed from the model's output, recognised from text when none is given."""

import pytest

from agents.emotion import emotion_recognise, line_emotion
from agents.promptbook import EMOTIONS


@pytest.mark.parametrize(
    ("raw", "emotion"),
    [
        ("[fear] (backs away) We won, didn't we?", "fear"),
        ("<|joy|>Another card sealed.", "joy"),
        ("  [determination] I'll go alone.", "determination"),
    ],
)
def test_an_emotion_the_model_gives_is_kept(raw, emotion):
    assert line_emotion(raw) == (emotion, "given")


@pytest.mark.parametrize(
    "raw",
    ["[bored] Stay out of my way!", "(slams the door) Stay out of my way!", ""],
)
def test_without_a_known_emotion_the_classifier_decides(raw):
    emotion, how = line_emotion(raw)
    assert how == "recognised"
    assert emotion in EMOTIONS
    if raw:
        assert emotion == "anger"


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("I will fight so that nobody else gets hurt.", "determination"),
        ("Stay out of my way. This one is mine.", "anger"),
        ("Why does nobody listen to me?", "sadness"),
        ("We did it! The card is sealed.", "joy"),
        ("Breathe. Think before you transform.", "calm"),
        ("You again? I did not expect that.", "surprise"),
        ("Kenzaki, the Rouse Absorber is not ready yet.", "fear"),
        ("This is the worst day of my life, I am so miserable.", "sadness"),
        ("This is wonderful, what a lovely evening!", "joy"),
        ("I hate this, you fool, this is awful!", "anger"),
    ],
)
def test_recognise_reads_cue_words_and_valence(text, emotion):
    assert emotion_recognise(text) == emotion


def test_neutral_text_reads_as_the_default_given():
    assert emotion_recognise("The kettle is on the stove.") == "calm"
    assert emotion_recognise("The kettle is on the stove.", "joy") == "joy"


def test_an_unknown_default_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="determination"):
        emotion_recognise("Hello.", default="bored")


def test_audience_text_is_recognised_too():
    assert emotion_recognise("No way! Hajime is back?!") == "surprise"
    assert emotion_recognise("I'm scared for Mutsuki, this is dangerous") == "fear"
