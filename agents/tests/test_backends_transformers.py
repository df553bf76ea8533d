"""Tests of the transformers backend against tiny local checkpoints."""

from __future__ import annotations

import shutil
import threading

import pytest

from agents.backends import BackendError, GenerationRequest, load_backend
from agents.backends.huggingface import HuggingFaceBackend
from agents.tests.tiny_models import CHAT_TURNS


def ask(question: str, **options) -> GenerationRequest:
    """Return a greedy request asking `question` as the user."""
    options = {"temperature": 0.0, "max_new_tokens": 24, **options}
    return GenerationRequest(
        messages=[{"role": "user", "content": question}], **options
    )


def test_the_chat_template_renders_the_prompt(chat_backend):
    request = ask("Who are you?")
    assert (
        chat_backend.render_prompt(request)
        == "<s><|user|>Who are you?</s><|assistant|>"
    )
    # The tiny model learnt its answers in this template, so it answers them.
    assert chat_backend.generate(request).text == CHAT_TURNS[0][1]


def test_without_a_template_messages_render_as_named_lines(tiny_plain_model):
    backend = HuggingFaceBackend(path=tiny_plain_model, assistant_name="Kenzaki")
    request = GenerationRequest(
        messages=[
            {"role": "system", "content": "A laboratory."},
            {"role": "user", "name": "Tachibana", "content": "Ready?"},
        ]
    )
    prompt = backend.render_prompt(request)
    assert prompt == "System: A laboratory.\nTachibana: Ready?\nKenzaki:"


def test_a_batch_gives_the_same_greedy_text_as_one_at_a_time(chat_backend):
    # Different prompt lengths, so the batch is left-padded; different budgets too.
    requests = [
        ask(q, max_new_tokens=n)
        for (q, _), n in zip(CHAT_TURNS, (24, 5, 16, 24), strict=True)
    ]
    requests.append(ask("Tell me, in many more words than before, what happened?"))
    batch = chat_backend.generate_batch(requests)
    alone = [chat_backend.generate(request) for request in requests]
    assert [g.text for g in batch] == [g.text for g in alone]
    assert [g.tokens for g in batch] == [g.tokens for g in alone]
    assert batch[1].tokens == 5 and batch[1].finish_reason == "length"


def test_a_lora_adapter_loads_and_changes_the_answers(
    chat_backend, tiny_chat_model, tiny_lora_adapter
):
    adapted = load_backend(
        "transformers", path=tiny_chat_model, adapter=tiny_lora_adapter
    )
    unmerged = HuggingFaceBackend(
        path=tiny_chat_model, adapter=tiny_lora_adapter, merge_adapter=False
    )
    requests = [ask(q) for q, _ in CHAT_TURNS]
    base_texts = [g.text for g in chat_backend.generate_batch(requests)]
    adapted_texts = [g.text for g in adapted.generate_batch(requests)]
    assert adapted_texts != base_texts
    assert [g.text for g in unmerged.generate_batch(requests)] == adapted_texts


def test_a_missing_adapter_is_named(tiny_chat_model, tmp_path):
    with pytest.raises(BackendError, match=f"No LoRA adapter at {tmp_path}"):
        HuggingFaceBackend(path=tiny_chat_model, adapter=tmp_path)


def test_a_missing_checkpoint_names_the_path_and_what_was_expected(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(BackendError) as error:
        load_backend("transformers", path=missing)
    assert str(missing) in str(error.value)
    assert "config.json" in str(error.value) and "safetensors" in str(error.value)


def test_an_incomplete_checkpoint_names_the_missing_files(tiny_chat_model, tmp_path):
    shutil.copy(tiny_chat_model / "config.json", tmp_path / "config.json")
    with pytest.raises(BackendError) as error:
        HuggingFaceBackend(path=tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message
    assert "missing tokenizer files" in message and "weights" in message


def test_a_stop_sequence_ends_the_text_before_it(chat_backend):
    request = ask("Who are you?", stop=(", a rider",))
    pieces = list(chat_backend.stream(request))
    assert "".join(pieces) == "I am Kenzaki"
    assert chat_backend.generate(request).text == "I am Kenzaki"


def test_streamed_pieces_add_up_to_the_generated_text(chat_backend):
    request = ask("Where is Hajime?", stop=("xyz",))
    pieces = list(chat_backend.stream(request))
    assert len(pieces) > 3
    assert "".join(pieces) == chat_backend.generate(request).text == CHAT_TURNS[2][1]


def test_cancelling_stops_the_stream_between_tokens(chat_backend):
    cancel = threading.Event()
    pieces = []
    for piece in chat_backend.stream(ask("Where is Hajime?"), cancel):
        pieces.append(piece)
        cancel.set()
    assert len(pieces) == 1
    assert len(list(chat_backend.stream(ask("Where is Hajime?")))) > 1


def test_a_seed_makes_sampling_repeatable(chat_backend):
    def sample(seed: int) -> str:
        request = ask("Is the fight over?", temperature=3.0, top_p=1.0, seed=seed)
        return chat_backend.generate(request).text

    assert sample(7) == sample(7)
    assert len({sample(seed) for seed in range(5)}) > 1


def test_top_p_keeps_only_the_likeliest_tokens(chat_backend):
    # With a tiny nucleus, sampling is greedy whatever the seed and temperature.
    greedy = chat_backend.generate(ask("Is the fight over?")).text
    for seed in range(3):
        request = ask("Is the fight over?", temperature=3.0, top_p=1e-6, seed=seed)
        assert chat_backend.generate(request).text == greedy


def test_a_long_prompt_is_cut_to_leave_room_for_the_answer(chat_backend):
    request = ask("Who are you? " * 400, max_new_tokens=8)
    assert (
        chat_backend.count_tokens("Who are you? " * 400) > chat_backend.context_length
    )
    assert len(chat_backend.prompt_ids(request)) == chat_backend.context_length - 8
    assert chat_backend.generate(request).tokens <= 8


def test_count_tokens_counts_without_special_tokens(chat_backend):
    ids = chat_backend.tokenizer("I am Kenzaki", add_special_tokens=False)["input_ids"]
    assert chat_backend.count_tokens("I am Kenzaki") == len(ids) > 0


def test_messages_the_template_cannot_render_are_reported(chat_backend):
    message = {"role": "narrator", "content": "The lights dim."}
    request = GenerationRequest(messages=[message], temperature=0.0)
    with pytest.raises(BackendError, match="cannot render these messages.*narrator"):
        chat_backend.generate(request)
