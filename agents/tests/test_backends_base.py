"""Tests of the backend base class and of picking a backend by name."""

from __future__ import annotations

import pytest

from agents.backends import (
    BackendError,
    BaseBackend,
    GenerationRequest,
    backend_class,
    load_backend,
)


class WordBackend(BaseBackend):
    """A backend that streams the words of the last message back."""

    @property
    def context_length(self) -> int:
        return 64

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, request, cancel=None):
        for word in request.messages[-1]["content"].split():
            yield word + " "


def test_short_names_pick_the_three_backends():
    from agents.backends.embedded import EmbeddedBackend
    from agents.backends.huggingface import HuggingFaceBackend
    from agents.backends.openai_compat import OpenAICompatibleBackend

    assert backend_class("embedded") is EmbeddedBackend
    assert backend_class("transformers") is HuggingFaceBackend
    assert backend_class("openai") is OpenAICompatibleBackend


def test_an_import_string_picks_a_backend_class():
    path = "agents.backends.openai_compat.OpenAICompatibleBackend"
    backend = load_backend(path, base_url="http://127.0.0.1:9/v1", model="m")
    assert backend.url == "http://127.0.0.1:9/v1/chat/completions"


def test_an_unknown_short_name_lists_the_known_ones():
    with pytest.raises(BackendError, match="embedded, transformers, openai"):
        load_backend("gpt")


def test_an_import_string_that_names_no_backend_says_so():
    with pytest.raises(BackendError, match="is not a backend"):
        load_backend("agents.promptbook.Cue")
    with pytest.raises(BackendError, match="Cannot import"):
        load_backend("agents.nowhere.Backend")


def test_unknown_options_are_reported_with_the_signature():
    with pytest.raises(BackendError, match="Bad options for backend 'openai'.*model"):
        load_backend("openai", base_url="http://127.0.0.1:9", modle="m")


def test_a_backend_without_stream_says_what_to_provide():
    with pytest.raises(NotImplementedError, match="subclasses of BaseBackend must"):
        next(iter(BaseBackend().stream(GenerationRequest())))
    with pytest.raises(NotImplementedError, match="count_tokens"):
        BaseBackend().count_tokens("hello")
    with pytest.raises(NotImplementedError, match="context_length"):
        BaseBackend().context_length  # noqa: B018


def test_generate_joins_the_stream_and_times_it():
    request = GenerationRequest(messages=[{"role": "user", "content": "to be or not"}])
    generation = WordBackend().generate(request)
    assert generation.text == "to be or not "
    assert generation.tokens == 4
    assert 0 <= generation.first_token_ms <= generation.latency_ms


def test_generate_batch_falls_back_to_one_request_after_another():
    requests = [
        GenerationRequest(messages=[{"role": "user", "content": text}])
        for text in ("exit pursued", "by a bear")
    ]
    texts = [g.text for g in WordBackend().generate_batch(requests)]
    assert texts == ["exit pursued ", "by a bear "]
