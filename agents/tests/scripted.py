"""Test doubles for minds: a scripted backend, a word-hash embedder, tiny models."""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from agents.backends import BaseBackend, GenerationRequest


class ScriptedBackend(BaseBackend):
    """A backend that answers each request with the next output of a script.

    Tokens are whitespace-separated words, so budgets are easy to reason about.
    Every request is kept in `requests` for the test to inspect.
    """

    name = "scripted"

    def __init__(self, outputs: Sequence[str] = ("[calm] Yes.",), context: int = 4096):
        self.outputs = list(outputs)
        self.context = context
        self.requests: list[GenerationRequest] = []
        self.calls = 0

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Yield the next scripted output word by word (the last one repeats)."""
        self.requests.append(request)
        text = self.outputs[min(self.calls, len(self.outputs) - 1)]
        self.calls += 1
        for piece in re.findall(r"\S+\s*|\s+", text):
            if cancel is not None and cancel.is_set():
                return
            yield piece

    @property
    def context_length(self) -> int:
        """Return the configured context length."""
        return self.context

    def count_tokens(self, text: str) -> int:
        """Return the number of whitespace-separated words in `text`."""
        return len(text.split())


def hash_embed(texts: Sequence[str], size: int = 64) -> np.ndarray:
    """Return bag-of-words vectors: each lowercase word hashed into one of `size`."""
    vectors = np.zeros((len(texts), size), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            vectors[row, int.from_bytes(digest, "little") % size] += 1.0
    return vectors


@cache
def quick_stage_model() -> Path:
    """Return a tiny prompt-book stage model (3 training steps), built once per run."""
    from agents.tests.tiny_models import build_stage_model

    directory = Path(tempfile.mkdtemp(prefix="stageplay-tiny-stage-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return build_stage_model(directory / "stage", steps=3, hidden=32, layers=1)


@cache
def quick_chat_model() -> Path:
    """Return a tiny chat model with a chat template (3 steps), built once per run."""
    from agents.tests.tiny_models import build_chat_model

    directory = Path(tempfile.mkdtemp(prefix="stageplay-tiny-chat-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return build_chat_model(directory / "chat", steps=3, hidden=32, layers=1)
