"""Minds: how a character speaks its next line, and one turn of a performance.

A turn is the pipeline of the specification's architecture: the director (central
coordinator) picks the speaker and writes notes, the Action Suggester proposes a
stage direction, the Dialog Generator (the backend) speaks, the line is committed,
the witnesses remember it and the Context Analyzer updates the running summary.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agents.backends import BaseBackend, GenerationRequest, load_backend
from agents.director import (
    AudienceMood,
    direction_suggest,
    director_notes,
    next_speaker,
    staging_get,
    summary_update,
    witnesses_of,
)
from agents.emotion import emotion_recognise
from agents.memory import memories_retrieve, memories_summarise, memories_witness
from agents.models import Character
from agents.promptbook import EMOTIONS, parse_line
from agents.prompting import (
    HeardLine,
    Prompt,
    StageView,
    names_of,
    scene_prompt,
    temperature_for,
)
from agents.rerank import Reranker, context_of, pick_best, pieces_of, reranker_for
from stageplay.conf import stage_settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # generations tried before a mind gives up on empty output
MAX_NEW_TOKENS = 96  # the longest line, in tokens
MEMORY_LIMIT = 5  # memories retrieved into each prompt
QUERY_LINES = 3  # recent lines that make the memory query
TOP_P = 0.95
# Control characters and undecodable bytes a model may emit; never worth keeping.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")


class MindError(RuntimeError):
    """A character's mind could not produce a usable line; the message says why."""


class TurnCancelled(Exception):
    """The line was cancelled while it was being generated; nothing was committed."""


@dataclass
class GeneratedLine:
    """A line a mind generated, parsed and timed, not yet committed."""

    text: str  # the spoken text
    emotion: str  # one of promptbook.EMOTIONS
    direction: str  # stage direction, possibly the suggested one
    tokens: int  # tokens generated
    latency_ms: int  # from the request to the last token
    raw: str = ""  # the model's output as streamed
    attempts: int = 1  # generations it took
    emotion_given: bool = True  # False: the model named none and it was recognised
    prompt: Prompt | None = None  # the prompt of the successful attempt
    candidates: int = 1  # candidates drawn for it (best of N when more than 1)


# Backends

_backends: dict[tuple[str, str], BaseBackend] = {}
_backends_lock = threading.Lock()


def backend_name(performance=None) -> str:
    """Return the backend a performance uses: its own, else settings' BACKEND."""
    return (getattr(performance, "backend", "") or stage_settings.BACKEND).strip()


def backend_for(performance=None, *, name: str | None = None) -> BaseBackend:
    """Return the backend for `performance` (or `name`), loaded once per process.

    Options come from `STAGEPLAY["BACKEND_OPTIONS"][name]`; the cache is keyed by
    name and options, so changing the settings loads a fresh backend.
    """
    name = name or backend_name(performance)
    options = dict(stage_settings.BACKEND_OPTIONS.get(name, {}))
    key = (name, json.dumps(options, sort_keys=True, default=str))
    with _backends_lock:
        if key not in _backends:
            _backends[key] = load_backend(name, **options)
        return _backends[key]


def backend_cache_clear() -> None:
    """Forget every loaded backend (tests, or after changing the model on disk)."""
    with _backends_lock:
        _backends.clear()


# What a mind sees


def stage_view(
    *, performance, character: Character, audience: AudienceMood | None = None
) -> StageView:
    """Return what `character` sees before speaking in `performance`."""
    staging = staging_get(performance=performance)
    lines = list(performance.lines.select_related("character").order_by("index"))
    recent = " ".join(line.text for line in lines[-QUERY_LINES:])
    scene = performance.scene
    query = recent or f"{scene.synopsis} {scene.opening}"
    recalled = memories_retrieve(
        character=character,
        query=query,
        limit=MEMORY_LIMIT,
        exclude_performance=performance,
    )
    on_stage = list(staging.on_stage)
    if not staging.is_on_stage(character):
        on_stage.append(character)
    return StageView(
        character=character,
        scene=scene,
        on_stage=on_stage,
        transcript=[HeardLine.from_line(line) for line in lines],
        memories=[r.text for r in recalled],
        summary=performance.summary,
        notes=director_notes(
            performance=performance, character=character, audience=audience
        ),
        suggestion=direction_suggest(
            staging=staging, character=character, audience=audience
        ),
        audience_chat=list(audience.chat[-3:]) if audience else [],
    )


# Speaking


def max_new_tokens_for(backend: BaseBackend, wanted: int = MAX_NEW_TOKENS) -> int:
    """Return `wanted`, reduced so a third of a short context stays for the answer."""
    return max(8, min(wanted, backend.context_length // 3))


def spoken_text(
    raw: str, speaker: Character, others: list[Character], one_line: bool = True
):
    """Return `raw` parsed, without a speaker label or other characters' lines.

    Models often prefix `Kenzaki:` or go on to write the next character's line; the
    label is dropped and the text is cut where another character's label starts.
    With `one_line`, only the first line of the output counts.
    """
    own = re.compile(
        r"^\s*(?:" + "|".join(re.escape(n) for n in names_of(speaker)) + r")\s*:\s*",
        re.IGNORECASE,
    )
    raw = _CONTROL.sub("", raw.replace("\r", "\n"))
    rows = [row for row in raw.split("\n") if row.strip()]
    if not one_line:
        rows = [" ".join(rows)] if rows else []
    head = own.sub("", rows[0]) if rows else ""
    parsed = parse_line(head)
    if not parsed.text and len(rows) > 1:
        parsed = parse_line(f"{head} {rows[1]}")
    text = own.sub("", parsed.text)
    labels = "|".join(re.escape(n) for c in others for n in names_of(c))
    if labels:
        match = re.search(rf"(?:^|\s)(?:{labels})\s*:\s", text, re.IGNORECASE)
        if match:
            text = text[: match.start()]
    text = text.strip().strip('"“”').strip()
    parsed.text = text
    return parsed


def speak(
    *,
    backend: BaseBackend,
    prompt: Prompt,
    character: Character,
    max_new_tokens: int,
    seed: int,
    others: list[Character] = (),
    suggestion: str = "",
    on_delta: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    one_line: bool = True,
    best_of: int | None = None,
    reranker: Reranker | None = None,
    context: str | None = None,
) -> GeneratedLine:
    """Return what `character` says for `prompt`: streamed, parsed, retried if empty.

    With `best_of` (default STAGEPLAY["BEST_OF"]) above 1 and a reranker (given, or
    saved beside the backend's model), that many candidates are drawn in one batch
    and the one that best fits the speaker and `context` (default: the cue's task
    or last lines) is kept, then streamed to `on_delta` in word-sized pieces;
    otherwise one candidate streams as it is generated. The latency covers it all.
    Output that parses to no spoken text is retried up to MAX_ATTEMPTS times with
    other seeds, then MindError. A set `cancel` raises TurnCancelled.
    """
    count = stage_settings.BEST_OF if best_of is None else best_of
    if count > 1:
        reranker = reranker or reranker_for(backend)
    if count <= 1 or reranker is None:
        count = 1
    context = context_of(prompt.cue) if context is None else context

    def text_of(raw: str) -> str:
        return spoken_text(raw, character, list(others), one_line=one_line).text

    raw = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        request = GenerationRequest(
            messages=prompt.messages,
            cue=prompt.cue,
            max_new_tokens=max_new_tokens,
            temperature=temperature_for(character),
            top_p=TOP_P,
            seed=(seed + 104729 * (attempt - 1)) % 2**32,
        )
        started = time.perf_counter()
        if count > 1:
            pick = pick_best(
                backend,
                request,
                count=count,
                reranker=reranker,
                speaker=character.slug,
                context=context,
                text_of=text_of,
                cancel=cancel,
            )
            pieces = pieces_of((pick.chosen or pick.generations[0]).text)
        else:
            pieces = backend.stream(request, cancel)
        raw = _relay(pieces, on_delta, cancel)
        if cancel is not None and cancel.is_set():
            raise TurnCancelled(f"{character.name}'s line was cancelled.")
        latency_ms = int((time.perf_counter() - started) * 1000)
        parsed = spoken_text(raw, character, list(others), one_line=one_line)
        if not parsed.text:
            logger.info("Empty line from %s (attempt %d): %r", character, attempt, raw)
            continue
        emotion = parsed.emotion or emotion_recognise(
            parsed.text, default=character.emotional_baseline
        )
        return GeneratedLine(
            text=parsed.text,
            emotion=emotion,
            direction=(parsed.direction or suggestion)[:300],
            tokens=backend.count_tokens(raw) if raw else 0,
            latency_ms=latency_ms,
            raw=raw,
            attempts=attempt,
            emotion_given=parsed.emotion is not None,
            prompt=prompt,
            candidates=count,
        )
    raise MindError(
        f"{character.name}'s mind produced no spoken text in {MAX_ATTEMPTS} attempts "
        f"(last output: {raw[:120]!r}). The model answers in the wrong form: check "
        f"the {getattr(backend, 'name', 'model')!r} backend's model, or choose "
        "another with --backend or STAGEPLAY_BACKEND."
    )


def _relay(
    pieces: Iterable[str],
    on_delta: Callable[[str], None] | None,
    cancel: threading.Event | None,
) -> str:
    """Pass `pieces` on to `on_delta` until `cancel` is set; return their text."""
    relayed = []
    for piece in pieces:
        if cancel is not None and cancel.is_set():
            break
        relayed.append(piece)
        if on_delta is not None:
            on_delta(piece)
    return "".join(relayed)


def line_generate(
    *,
    performance,
    character: Character,
    audience: AudienceMood | None = None,
    on_delta: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    backend: BaseBackend | None = None,
) -> GeneratedLine:
    """Return the next line of `character` in `performance`, streamed to `on_delta`.

    The prompt is built from what the character sees (profile, scene, who is on
    stage, memories, transcript, the director's notes and suggestion); see `speak`
    for retries, cancelling and errors.
    """
    backend = backend or backend_for(performance)
    view = stage_view(performance=performance, character=character, audience=audience)
    max_new = max_new_tokens_for(backend)
    prompt = scene_prompt(view, backend=backend, max_new_tokens=max_new)
    return speak(
        backend=backend,
        prompt=prompt,
        character=character,
        max_new_tokens=max_new,
        seed=performance.seed + 7919 * len(view.transcript),
        others=[c for c in view.on_stage if c.pk != character.pk],
        suggestion=view.suggestion,
        on_delta=on_delta,
        cancel=cancel,
    )


# Reading a line as it streams

_HEAD_TAG = re.compile(r"\[(?P<a>[a-z]+)\]|<\|(?P<b>[a-z]+)\|>")


class SurfaceReader:
    """Split a streamed `[emotion] (direction) text` into its head and its text.

    `feed` holds pieces back until the head is complete, then returns the spoken
    text as it arrives; `emotion` and `direction` are known once `head_done`.
    Text after the first line break is not shown (minds keep only the first line).
    """

    def __init__(self) -> None:
        self.buffer = ""
        self.head_done = False
        self.emotion: str | None = None
        self.direction = ""
        self.shown = ""
        self.closed = False

    def feed(self, piece: str) -> str:
        """Take the next raw piece; return the spoken text that may be shown now."""
        if self.closed:
            return ""
        if self.head_done:
            return self._show(piece)
        self.buffer += piece
        rest = self.buffer.lstrip()
        if not rest:
            return ""
        if rest[0] in "[<" and not self._tag_done(rest):
            return ""
        match = _HEAD_TAG.match(rest)
        if match and (match.group("a") or match.group("b")) in EMOTIONS:
            self.emotion = match.group("a") or match.group("b")
            rest = rest[match.end() :].lstrip()
            if not rest:
                return ""
        if rest.startswith("("):
            if ")" not in rest and len(rest) < 220:
                return ""
            direction, _, rest = rest[1:].partition(")")
            self.direction = " ".join(direction.split())
            rest = rest.lstrip()
            if not rest:
                return ""
        self.head_done = True
        return self._show(rest)

    def _tag_done(self, rest: str) -> bool:
        """Tell whether a leading `[...]` or `<|...|>` tag is complete (or never)."""
        closer = "]" if rest[0] == "[" else "|>"
        return closer in rest or len(rest) > 30

    def _show(self, text: str) -> str:
        """Return `text` up to the first line break after some text was shown."""
        if "\n" in text and (self.shown + text.split("\n", 1)[0]).strip():
            text = text.split("\n", 1)[0]
            self.closed = True
        self.shown += text
        return text


# One turn


def line_digest(*, line, embedder=None) -> list:
    """Let the witnesses of a committed `line` remember it and update the summary.

    Call it after committing any line, the agents' and the human performers'.
    """
    memories = memories_witness(
        line=line, witnesses=witnesses_of(line=line), embedder=embedder
    )
    summary_update(performance=line.performance)
    return memories


def performance_turn(
    *,
    performance,
    audience: AudienceMood | None = None,
    on_delta: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    on_speaker: Callable[[Character], None] | None = None,
    character: Character | None = None,
):
    """Play one turn of `performance` and return the committed Line, or None.

    The director picks the speaker unless `character` is given (e.g. an agent
    standing in for a human performer). None means the scene has ended (turn
    limit, curtain, empty stage); each character then stores a summary memory of
    what it witnessed. `on_speaker` hears who speaks before generation starts.
    """
    from performances.services import line_append

    if character is None:
        character = next_speaker(performance=performance, audience=audience)
    if character is None:
        memories_summarise(performance=performance)
        return None
    if on_speaker is not None:
        on_speaker(character)
    generated = line_generate(
        performance=performance,
        character=character,
        audience=audience,
        on_delta=on_delta,
        cancel=cancel,
    )
    line = line_append(
        performance=performance,
        text=generated.text,
        character=character,
        emotion=generated.emotion,
        direction=generated.direction,
        tokens=generated.tokens,
        latency_ms=generated.latency_ms,
    )
    line_digest(line=line)
    return line
