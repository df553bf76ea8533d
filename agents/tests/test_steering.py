"""Topic steering: task words are offered in the right form, finished, and not repeated."""

from __future__ import annotations

import pytest

from agents.backends.steering import (
    MAX_WORDS,
    MID_SENTENCE,
    NEW_SENTENCE,
    OPENING,
    Topic,
)

START, FINISH = 3.0, 8.0


@pytest.fixture(scope="module")
def stage_tokenizer(untrained_stage_model):
    from agents.training.tokenizer import load_tokenizer

    return load_tokenizer(untrained_stage_model)


def topic_of(tokenizer, task: str) -> Topic:
    specials = {i for t, i in tokenizer.get_added_vocab().items() if t.startswith("<|")}
    return Topic(task, tokenizer, specials)


def encode(tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False)


def test_the_content_words_of_a_task_are_its_topic():
    from agents.training.tokenizer import train_tokenizer

    task = "What should the volunteer fire brigade in Kobe do about its empty station?"
    fourteen = (
        "harbour ferry captain engine ticket queue weather delay cabin cargo "
        "anchor pier radio crew"
    )
    # a tokenizer that has met these words, so each starts with a token of letters
    texts = [f"{task} {task.lower()} {fourteen}"] * 50
    tokenizer = train_tokenizer(texts, ["kenzaki"], 400)
    topic = topic_of(tokenizer, task)
    words = [word.text for word in topic.words]

    assert {"volunteer", "brigade", "fire", "empty", "station", "kobe"} <= set(words)
    assert not {"what", "should", "about"} & set(words)
    kobe = next(word for word in topic.words if word.text == "kobe")
    # a name keeps its capital inside a sentence
    assert kobe.forms[MID_SENTENCE] == tuple(encode(tokenizer, " Kobe"))
    capped = topic_of(tokenizer, f"How should the {fourteen} work?").words
    assert [word.text for word in capped] == fourteen.split()[:MAX_WORDS]


def test_a_line_is_offered_each_unsaid_word_in_the_form_its_place_needs(
    stage_tokenizer,
):
    topic = topic_of(stage_tokenizer, "How should the lighthouse keeper repaint it?")
    [lighthouse] = [w for w in topic.words if w.text == "lighthouse"]
    state = topic.start([])

    opening = topic.bonuses(state, [], start=START, finish=FINISH)
    assert {w.forms[OPENING][0] for w in topic.words if w.forms[OPENING]} == set(
        opening
    )
    assert set(opening.values()) == {START}

    going = encode(stage_tokenizer, "And")
    mid = topic.bonuses(topic.start([]), going, start=START, finish=FINISH)
    assert lighthouse.forms[MID_SENTENCE][0] in mid
    assert topic._place(encode(stage_tokenizer, "And so.")) == NEW_SENTENCE


def test_an_offered_word_is_finished_then_never_offered_again(stage_tokenizer):
    topic = topic_of(stage_tokenizer, "How should the lighthouse keeper repaint it?")
    [lighthouse] = [w for w in topic.words if w.text == "lighthouse"]
    form = lighthouse.forms[MID_SENTENCE]
    assert len(form) > 1  # several tokens in the tiny tokenizer
    state = topic.start([])
    ids = encode(stage_tokenizer, "And")
    topic.bonuses(state, ids, start=START, finish=FINISH)

    for out in range(1, len(form)):  # the model takes the offer, token by token
        ids.append(form[out - 1])
        assert topic.bonuses(state, ids, start=START, finish=FINISH) == {
            form[out]: FINISH
        }
    ids.append(form[-1])
    after = topic.bonuses(state, ids, start=START, finish=FINISH)

    assert form[0] not in after and after  # said; the other words are still offered


def test_a_token_chosen_without_an_offer_is_not_completed(stage_tokenizer):
    topic = topic_of(stage_tokenizer, "How should the lighthouse keeper repaint it?")
    [lighthouse] = [w for w in topic.words if w.text == "lighthouse"]
    form = lighthouse.forms[MID_SENTENCE]
    # said in the scene already: never offered, so its first token stays the model's
    state = topic.start(["Hajime: The lighthouse again?"])
    ids = encode(stage_tokenizer, "And")

    offered = topic.bonuses(state, ids, start=START, finish=FINISH)
    following = topic.bonuses(state, [*ids, form[0]], start=START, finish=FINISH)

    assert form[0] not in offered
    assert following.get(form[1]) != FINISH
