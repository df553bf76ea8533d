"""Shared fixtures for the agents tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# Language-model backends: tiny checkpoints built once per session, and backends
# loaded from them (torch and transformers are imported only when used).


@pytest.fixture(scope="session")
def tiny_stage_model(tmp_path_factory) -> Path:
    """Return the directory of a tiny prompt-book stage model trained on the format."""
    from agents.tests.tiny_models import build_stage_model

    return build_stage_model(tmp_path_factory.mktemp("stage_model"))


@pytest.fixture(scope="session")
def untrained_stage_model(tmp_path_factory) -> Path:
    """Return the directory of a tiny stage model with random weights."""
    from agents.tests.tiny_models import build_stage_model

    return build_stage_model(tmp_path_factory.mktemp("untrained_stage"), steps=0)


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory) -> Path:
    """Return the directory of a tiny chat checkpoint with a jinja chat template."""
    from agents.tests.tiny_models import build_chat_model

    return build_chat_model(tmp_path_factory.mktemp("chat_model"))


@pytest.fixture(scope="session")
def tiny_plain_model(tmp_path_factory) -> Path:
    """Return the directory of the tiny chat checkpoint without a chat template."""
    from agents.tests.tiny_models import build_chat_model

    return build_chat_model(tmp_path_factory.mktemp("plain_model"), chat_template=False)


@pytest.fixture(scope="session")
def tiny_lora_adapter(tiny_chat_model, tmp_path_factory) -> Path:
    """Return the directory of a LoRA adapter (non-zero weights) for the chat model."""
    from agents.tests.tiny_models import build_lora_adapter

    return build_lora_adapter(tiny_chat_model, tmp_path_factory.mktemp("lora"))


@pytest.fixture(scope="session")
def stage_backend(tiny_stage_model):
    """Return the embedded backend loaded from the tiny stage model."""
    from agents.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(path=tiny_stage_model)


@pytest.fixture(scope="session")
def chat_backend(tiny_chat_model):
    """Return the transformers backend loaded from the tiny chat model."""
    from agents.backends.huggingface import HuggingFaceBackend

    return HuggingFaceBackend(path=tiny_chat_model)
