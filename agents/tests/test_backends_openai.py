"""Tests of the OpenAI-compatible backend against a scripted local HTTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agents.backends import BackendError, GenerationRequest
from agents.backends.openai_compat import OpenAICompatibleBackend


class ScriptedServer(ThreadingHTTPServer):
    """An HTTP server answering each POST with the next scripted answer."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[tuple] = []  # answers, in order; the last one repeats
        self.received: list[dict] = []  # (path, headers, json body) of each request
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1"

    def next_answer(self) -> tuple:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class Handler(BaseHTTPRequestHandler):
    """Play the server's script: stream events, fail, stall or answer garbage."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        kind, *args = self.server.next_answer()
        if kind == "sleep":
            time.sleep(args[0])
            return
        if kind == "drop":
            return  # close the connection without a word
        if kind == "stream":
            self._answer(200, "text/event-stream", _events(args[0]))
        elif kind == "status":
            self._answer(args[0], "application/json", args[1].encode())
        elif kind == "raw":
            self._answer(200, args[0], args[1].encode())

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _events(pieces: list[str]) -> bytes:
    """Return an SSE body streaming `pieces` as chat-completion chunks, then [DONE]."""
    lines = [": keep-alive comment\n\n"]
    for piece in pieces:
        chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
        lines.append(f"data: {json.dumps(chunk)}\n\n")
    last = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    lines.append(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n")
    return "".join(lines).encode()


@pytest.fixture
def server():
    """Return a running scripted server; shut it down afterwards."""
    httpd = ScriptedServer()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def backend_for(server: ScriptedServer, **options) -> OpenAICompatibleBackend:
    """Return a backend for `server` with quick retries."""
    options = {"model": "blade-7b", "backoff": 0.01, "max_retries": 2, **options}
    return OpenAICompatibleBackend(base_url=server.url, **options)


def hello(**options) -> GenerationRequest:
    """Return a request saying hello."""
    return GenerationRequest(messages=[{"role": "user", "content": "Hello"}], **options)


def test_streams_the_pieces_and_passes_the_sampling_options(server):
    server.script = [("stream", ["Henshin", "! ", "Turn up."])]
    backend = backend_for(server, api_key="sk-test")
    request = hello(max_new_tokens=12, temperature=0.3, top_p=0.9, stop=("\n",), seed=5)
    assert list(backend.stream(request)) == ["Henshin", "! ", "Turn up."]
    sent = server.received[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test"
    assert sent["body"] == {
        "model": "blade-7b",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": True,
        "max_tokens": 12,
        "temperature": 0.3,
        "top_p": 0.9,
        "stop": ["\n"],
        "seed": 5,
    }


def test_generate_joins_the_pieces_and_counts_them(server):
    server.script = [("stream", ["Hen", "shin"])]
    generation = backend_for(server).generate(hello())
    assert (generation.text, generation.tokens) == ("Henshin", 2)
    assert generation.first_token_ms <= generation.latency_ms


def test_a_server_error_is_retried_until_it_answers(server):
    server.script = [("status", 500, '{"error": "warming up"}'), ("stream", ["Ready."])]
    assert backend_for(server).generate(hello()).text == "Ready."
    assert len(server.received) == 2


def test_a_dropped_connection_is_retried(server):
    server.script = [("drop",), ("stream", ["Back."])]
    assert backend_for(server).generate(hello()).text == "Back."
    assert len(server.received) == 2


def test_a_server_that_keeps_failing_gives_a_clear_error(server):
    server.script = [("status", 503, '{"error": "overloaded"}')]
    with pytest.raises(BackendError, match="after 3 attempts.*HTTP 503.*overloaded"):
        list(backend_for(server).stream(hello()))
    assert len(server.received) == 3


def test_a_refused_request_is_not_retried(server):
    server.script = [("status", 404, '{"error": "model not found"}')]
    with pytest.raises(BackendError, match="refused the request: HTTP 404.*blade-7b"):
        backend_for(server).generate(hello())
    assert len(server.received) == 1


def test_a_server_that_is_down_is_reported_after_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    backend = OpenAICompatibleBackend(
        base_url=f"http://127.0.0.1:{port}", model="m", backoff=0.01, max_retries=1
    )
    with pytest.raises(
        BackendError, match="after 2 attempts.*Check that it is running"
    ):
        backend.generate(hello())


def test_a_server_too_slow_to_answer_times_out(server):
    server.script = [("sleep", 2.0)]
    backend = backend_for(server, read_timeout=0.2)
    started = time.perf_counter()
    with pytest.raises(BackendError, match="too slow.*read_timeout"):
        backend.generate(hello())
    assert time.perf_counter() - started < 1.5
    assert len(server.received) == 1


def test_a_garbage_event_is_reported(server):
    server.script = [("raw", "text/event-stream", "data: {not json\n\n")]
    with pytest.raises(BackendError, match="not JSON"):
        backend_for(server).generate(hello())


def test_a_body_without_events_is_reported(server):
    server.script = [("raw", "text/html", "<html>It works!</html>")]
    with pytest.raises(BackendError, match="not a completion stream"):
        backend_for(server).generate(hello())


def test_json_that_is_not_a_completion_is_reported(server):
    server.script = [("raw", "text/event-stream", 'data: {"object": "list"}\n\n')]
    with pytest.raises(BackendError, match="no `choices`"):
        backend_for(server).generate(hello())


def test_an_error_event_is_reported_with_its_message(server):
    event = 'data: {"error": {"message": "context too long"}}\n\n'
    server.script = [("raw", "text/event-stream", event)]
    with pytest.raises(BackendError, match="context too long"):
        backend_for(server).generate(hello())


def test_a_server_that_ignores_streaming_still_answers(server):
    answer = {
        "choices": [{"message": {"content": "Turn up."}, "finish_reason": "length"}],
        "usage": {"completion_tokens": 3},
    }
    server.script = [("raw", "application/json", json.dumps(answer))]
    generation = backend_for(server).generate(hello())
    assert (generation.text, generation.tokens) == ("Turn up.", 3)
    assert generation.finish_reason == "length"


def test_a_batch_is_sent_concurrently_and_kept_in_order(server):
    server.script = [("stream", ["same"])]
    requests = [hello(seed=i) for i in range(4)]
    generations = backend_for(server).generate_batch(requests)
    assert [g.text for g in generations] == ["same"] * 4
    assert sorted(r["body"]["seed"] for r in server.received) == [0, 1, 2, 3]


def test_cancelling_stops_reading_the_stream(server):
    server.script = [("stream", ["one ", "two ", "three"])]
    cancel = threading.Event()
    pieces = []
    for piece in backend_for(server).stream(hello(), cancel):
        pieces.append(piece)
        cancel.set()
    assert pieces == ["one "]


def test_a_request_without_messages_is_refused():
    backend = OpenAICompatibleBackend(base_url="http://127.0.0.1:9", model="m")
    with pytest.raises(BackendError, match="needs chat messages"):
        backend.generate(GenerationRequest())


def test_a_base_url_without_a_scheme_is_refused():
    with pytest.raises(BackendError, match="not an HTTP address"):
        OpenAICompatibleBackend(base_url="localhost:8000", model="m")
