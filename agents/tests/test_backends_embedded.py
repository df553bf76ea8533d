"""Tests of the embedded backend: the prompt-book stage model speaks parseable lines."""

from __future__ import annotations

import pytest

from agents.backends import BackendError, GenerationRequest, load_backend
from agents.backends.embedded import MIN_TEXT_TOKENS, EmbeddedBackend
from agents.promptbook import EMOTIONS, Cue, ScriptLine, parse_line
from agents.tests.tiny_models import STAGE_HEADING, STAGE_LINES


def cue_for(speaker: str, lines: int = 1) -> Cue:
    """Return a cue for `speaker` after the first `lines` lines of the tiny scene."""
    return Cue(speaker=speaker, heading=STAGE_HEADING, lines=STAGE_LINES[:lines])


def test_the_stream_is_an_emotion_tag_then_the_spoken_text(stage_backend):
    request = GenerationRequest(cue=cue_for("tachibana"), temperature=0.0)
    pieces = list(stage_backend.stream(request))
    assert pieces[0] == "[fear] "
    parsed = parse_line("".join(pieces))
    # The tiny model learnt this exchange, so the cue was rendered as it learnt it.
    assert (parsed.emotion, parsed.text) == ("fear", STAGE_LINES[1].text)


@pytest.fixture(scope="module")
def untrained_backend(untrained_stage_model) -> EmbeddedBackend:
    """Return the embedded backend over a stage model with random weights."""
    return EmbeddedBackend(path=untrained_stage_model)


def test_every_sampled_line_parses_and_leaks_no_special_token(untrained_backend):
    # Random weights: only the decoding constraints keep the output in the format.
    for seed in range(6):
        request = GenerationRequest(
            cue=cue_for("hajime", 3), temperature=1.5, seed=seed, max_new_tokens=30
        )
        text = "".join(untrained_backend.stream(request))
        assert "<|" not in text and "|>" not in text
        parsed = parse_line(text)
        assert parsed.emotion in EMOTIONS
        assert text.startswith(f"[{parsed.emotion}] ")


def test_a_line_cannot_end_before_it_says_something(untrained_backend):
    # A model that wants to stop at once is held to MIN_TEXT_TOKENS tokens of text.
    import torch

    logits = torch.zeros(1, untrained_backend._text_mask.shape[0])
    logits[0, untrained_backend.eot_id] = 100.0
    for step in range(1, MIN_TEXT_TOKENS + 1):
        chosen = untrained_backend.adjust_logits(logits, step).argmax().item()
        assert chosen != untrained_backend.eot_id
    ending = untrained_backend.adjust_logits(logits, MIN_TEXT_TOKENS + 1)
    assert ending.argmax().item() == untrained_backend.eot_id


def test_a_seed_makes_the_stage_model_repeatable(untrained_backend):
    def sample(seed: int) -> str:
        request = GenerationRequest(
            cue=cue_for("kenzaki", 2), temperature=1.0, seed=seed, max_new_tokens=20
        )
        return untrained_backend.generate(request).text

    assert sample(3) == sample(3)
    assert len({sample(seed) for seed in range(4)}) > 1


def test_a_batch_of_cues_matches_one_at_a_time(stage_backend):
    requests = [
        GenerationRequest(cue=cue_for(line.speaker, i), temperature=0.0)
        for i, line in enumerate(STAGE_LINES[:6])
    ]
    batch = stage_backend.generate_batch(requests)
    assert [g.text for g in batch] == [stage_backend.generate(r).text for r in requests]
    assert all(g.finish_reason == "stop" for g in batch)
    assert all(parse_line(g.text).emotion in EMOTIONS for g in batch)


def test_a_speaker_without_a_token_speaks_as_other(stage_backend):
    cue = Cue(
        speaker="kotaro",
        heading=STAGE_HEADING,
        lines=[ScriptLine("amane", "Is anyone hungry?", "joy")],
    )
    prompt = stage_backend.render_prompt(GenerationRequest(cue=cue))
    assert prompt.endswith("<|other|><|joy|>Is anyone hungry?<|eot|>\n<|other|>")


def test_chat_messages_become_a_cue_when_there_is_none(stage_backend):
    request = GenerationRequest(
        messages=[
            {"role": "system", "content": "A quiet cafe."},
            {"role": "user", "name": "kenzaki", "content": "Coffee, please."},
            {"role": "assistant", "name": "hajime", "content": "Sit down."},
        ]
    )
    prompt = stage_backend.render_prompt(request)
    assert prompt.startswith("<|scene|>A quiet cafe.\n<|kenzaki|><|calm|>Coffee")
    assert prompt.endswith("<|hajime|>")


def test_a_missing_stage_model_says_how_to_make_one(tmp_path):
    with pytest.raises(BackendError, match="train_model") as error:
        load_backend("embedded", path=tmp_path / "stage_model")
    assert str(tmp_path / "stage_model") in str(error.value)


def test_a_tokenizer_without_prompt_book_tokens_is_refused(tiny_chat_model):
    with pytest.raises(
        BackendError, match=r"lacks the prompt-book special tokens.*eot"
    ):
        EmbeddedBackend(path=tiny_chat_model)


TASK = "How should the lighthouse keeper repaint the lighthouse before winter storms?"


def test_steering_puts_the_task_words_in_the_line_and_can_be_turned_off(
    untrained_stage_model,
):
    def line(bias: float) -> tuple[str, list[str]]:
        backend = EmbeddedBackend(path=untrained_stage_model, topic_bias=bias)
        cue = Cue("kenzaki", STAGE_HEADING, TASK, [])
        request = GenerationRequest(cue=cue, temperature=0.0, max_new_tokens=40)
        text = parse_line(backend.generate(request).text).text.lower()
        return text, [word.text for word in backend.topic(TASK).words]

    (steered, words), (plain, _) = line(50.0), line(0.0)

    assert "lighthouse" in words and "before" not in words
    assert all(word in steered for word in words)
    assert not any(word in plain for word in words)
