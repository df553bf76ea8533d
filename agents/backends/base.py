"""The shape every language-model backend shares: requests, results, the base class."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from agents.promptbook import Cue


class BackendError(Exception):
    """A backend could not load or answer; the message says what to do about it."""


@dataclass
class GenerationRequest:
    """What to generate: the prompt (chat messages or a cue) and how to sample."""

    messages: list[dict] = field(default_factory=list)  # chat messages: role, content
    cue: Cue | None = None  # the structured cue, read by prompt-book stage models
    max_new_tokens: int = 128  # the most tokens to generate
    temperature: float = 0.8  # 0 means greedy decoding
    top_p: float = 0.95  # nucleus sampling: keep the smallest set with this mass
    stop: tuple[str, ...] = ()  # generation ends before the first of these strings
    seed: int | None = None  # the same seed and request give the same output


@dataclass
class Generation:
    """A finished generation and how long it took."""

    text: str
    tokens: int  # tokens generated (as counted by the backend)
    latency_ms: float  # from the call to the last piece
    first_token_ms: float | None  # from the call to the first piece; None if empty
    finish_reason: str = "stop"  # "stop", "length" or "cancelled"


class BaseBackend:
    """A language model that streams text for a `GenerationRequest`.

    Subclasses provide `stream`, `context_length` and `count_tokens`; `generate`
    and `generate_batch` work on top of `stream` and may be overridden when a
    backend can do better (count real tokens, run requests together).
    """

    name = "base"

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Yield the generated text piece by piece; stop early once `cancel` is set."""
        raise NotImplementedError(
            "subclasses of BaseBackend must provide a stream() method"
        )

    @property
    def context_length(self) -> int:
        """Return the most tokens (prompt and generation) the model can attend to."""
        raise NotImplementedError(
            "subclasses of BaseBackend must provide a context_length property"
        )

    def count_tokens(self, text: str) -> int:
        """Return how many tokens `text` takes in this model's prompt."""
        raise NotImplementedError(
            "subclasses of BaseBackend must provide a count_tokens() method"
        )

    def generate(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Generation:
        """Return the whole generation for `request`, with its timings."""
        started = time.perf_counter()
        first = None
        pieces = []
        for piece in self.stream(request, cancel):
            if first is None and piece:
                first = time.perf_counter()
            pieces.append(piece)
        text = "".join(pieces)
        return Generation(
            text=text,
            tokens=self.count_tokens(text) if text else 0,
            latency_ms=(time.perf_counter() - started) * 1000,
            first_token_ms=None if first is None else (first - started) * 1000,
            finish_reason="cancelled" if cancel and cancel.is_set() else "stop",
        )

    def generate_batch(
        self, requests: list[GenerationRequest], cancel: threading.Event | None = None
    ) -> list[Generation]:
        """Return one generation per request, in order (here: one after another)."""
        return [self.generate(request, cancel) for request in requests]
