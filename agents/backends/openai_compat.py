"""The `openai` backend: any server speaking OpenAI's /v1/chat/completions."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from agents.backends.base import (
    BackendError,
    BaseBackend,
    Generation,
    GenerationRequest,
)


@dataclass
class _Chunk:
    """One parsed event of a completion stream."""

    text: str = ""
    finish_reason: str | None = None
    completion_tokens: int | None = None  # from a `usage` object, when sent


class OpenAICompatibleBackend(BaseBackend):
    """A chat model behind an OpenAI-compatible server (vLLM, llama.cpp, Ollama...).

    Options: `base_url` (with or without the trailing /v1), `model`, `api_key`,
    `connect_timeout` and `read_timeout` (seconds; read is the longest wait for
    the next bytes), `max_retries` (retries after connection errors and 5xx
    answers, with exponential backoff from `backoff` seconds),
    `context_length`, and `tokenizer` (a local tokenizer directory for exact
    token counts; without it tokens are estimated as four characters each).
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        context_length: int = 4096,
        tokenizer: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise BackendError(
                f"base_url {base_url!r} is not an HTTP address: give one such as "
                "http://localhost:8000/v1."
            )
        base = base_url.rstrip("/")
        self.url = base + (
            "/chat/completions" if base.endswith("/v1") else "/v1/chat/completions"
        )
        self.model = model
        self.read_timeout = read_timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._context_length = context_length
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=None
        )
        self.client = httpx.Client(headers=headers, timeout=timeout)
        self.tokenizer = _load_tokenizer(tokenizer) if tokenizer else None

    @property
    def context_length(self) -> int:
        """Return the context length given in the options (servers do not say)."""
        return self._context_length

    def count_tokens(self, text: str) -> int:
        """Return the token count of `text`: exact with a tokenizer, else estimated."""
        if self.tokenizer is not None:
            return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return math.ceil(len(text) / 4)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Iterator[str]:
        """Yield the completion's text as the server streams it."""
        for chunk in self._chunks(request, cancel):
            if chunk.text:
                yield chunk.text

    def generate(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Generation:
        """Return the whole completion, with the server's token count when sent."""
        started = time.perf_counter()
        first = None
        pieces, counted, reported, reason = [], 0, None, "stop"
        for chunk in self._chunks(request, cancel):
            if chunk.text:
                first = first or time.perf_counter()
                pieces.append(chunk.text)
                counted += 1  # servers send about one token per chunk
            reported = chunk.completion_tokens or reported
            reason = chunk.finish_reason or reason
        return Generation(
            text="".join(pieces),
            tokens=reported or counted,
            latency_ms=(time.perf_counter() - started) * 1000,
            first_token_ms=None if first is None else (first - started) * 1000,
            finish_reason=reason,
        )

    def generate_batch(
        self, requests: list[GenerationRequest], cancel: threading.Event | None = None
    ) -> list[Generation]:
        """Return one completion per request, sent concurrently (servers batch them)."""
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=min(len(requests), 16)) as pool:
            return list(pool.map(lambda r: self.generate(r, cancel), requests))

    def payload(self, request: GenerationRequest) -> dict:
        """Return the JSON body of the chat-completion request."""
        if not request.messages:
            raise BackendError(
                "The openai backend needs chat messages, and the request has none: "
                "build the prompt as messages (role, content) for chat models."
            )
        body = {
            "model": self.model,
            "messages": request.messages,
            "stream": True,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def _chunks(
        self, request: GenerationRequest, cancel: threading.Event | None
    ) -> Iterator[_Chunk]:
        """Yield parsed stream events, retrying failures before the first one."""
        body = self.payload(request)
        attempts = self.max_retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            started = False
            try:
                with self.client.stream("POST", self.url, json=body) as response:
                    if response.status_code >= 500:
                        problem = f"it answered {_status(response)}"
                        continue
                    if response.status_code >= 400:
                        raise BackendError(
                            f"The server at {self.url} refused the request: "
                            f"{_status(response)}. Check the model name "
                            f"({self.model!r}), the API key and the options."
                        )
                    for chunk in self._parse(response, cancel):
                        started = True
                        yield chunk
                    return
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout) and not started:
                    problem = f"connecting timed out ({exc})"
                    continue
                raise BackendError(
                    f"The server at {self.url} was too slow: no answer within "
                    f"{self.read_timeout} s. Raise read_timeout or check the server."
                ) from exc
            except httpx.TransportError as exc:
                if started:
                    raise BackendError(
                        f"The connection to {self.url} broke mid-answer: {exc}."
                    ) from exc
                problem = f"the connection failed ({exc or type(exc).__name__})"
        raise BackendError(
            f"The server at {self.url} could not answer after {attempts} attempts: "
            f"{problem}. Check that it is running and that base_url is right."
        )

    def _parse(
        self, response: httpx.Response, cancel: threading.Event | None
    ) -> Iterator[_Chunk]:
        """Yield the events of a streamed answer (or of a plain JSON answer)."""
        if response.headers.get("content-type", "").startswith("application/json"):
            response.read()
            yield self._chunk(response.text, whole=True)
            return
        seen = False
        for line in response.iter_lines():
            if cancel is not None and cancel.is_set():
                return
            if not line.startswith("data:"):
                continue  # blank separators, comments, event: and id: fields
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                return
            seen = True
            yield self._chunk(data)
        if not seen:
            raise BackendError(
                f"The server at {self.url} answered something that is not a "
                "completion stream (no `data:` events). Is base_url an "
                "OpenAI-compatible server?"
            )

    def _chunk(self, data: str, whole: bool = False) -> _Chunk:
        """Return the event in `data`, or raise BackendError if it is no completion."""
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise BackendError(
                f"The server at {self.url} answered something that is not JSON: "
                f"{data[:200]!r}. Is base_url an OpenAI-compatible server?"
            ) from exc
        if isinstance(event, dict) and "error" in event:
            raise BackendError(f"The server at {self.url} reported: {event['error']}")
        choices = event.get("choices") if isinstance(event, dict) else None
        if not isinstance(choices, list):
            raise BackendError(
                f"The server at {self.url} answered JSON that is not a chat "
                f"completion (no `choices`): {data[:200]!r}."
            )
        usage = event.get("usage") or {}
        chunk = _Chunk(completion_tokens=usage.get("completion_tokens"))
        if choices:
            choice = choices[0] if isinstance(choices[0], dict) else {}
            part = choice.get("message" if whole else "delta") or {}
            chunk.text = part.get("content") or ""
            chunk.finish_reason = choice.get("finish_reason")
        return chunk


def _status(response: httpx.Response) -> str:
    """Return the status and the start of the body of an error answer."""
    response.read()
    return f"HTTP {response.status_code} {response.text[:200]!r}"


def _load_tokenizer(path: str):
    """Return the local tokenizer at `path`, used to count tokens."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"Cannot load a tokenizer from {path}: {exc}. Pass the directory of "
            "the served model's tokenizer, or leave tokenizer unset to estimate."
        ) from exc
