"""Memory: ranking by recency, importance and relevance; witnessed-only knowledge."""

import time
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from agents import memory as memory_module
from agents.memory import (
    DECAY_PER_HOUR,
    EmbedderUnavailable,
    memories_retrieve,
    memories_summarise,
    memories_witness,
    memory_remember,
    minilm_embed,
    vector_of,
)
from agents.minds import line_digest, stage_view
from agents.models import Memory
from agents.tests.scripted import hash_embed
from performances.models import Scene
from performances.services import line_append, performance_create

NOW = timezone.now()

# Hand-made unit vectors: the query points along x.
VECTORS = {
    "query": [1.0, 0.0, 0.0],
    "on topic": [1.0, 0.0, 0.0],
    "half topic": [0.6, 0.8, 0.0],
    "off topic": [0.0, 0.0, 1.0],
}


def hand_embed(texts):
    return np.array([VECTORS[text] for text in texts], dtype=np.float32)


def remember(character, text, hours_ago=0.0, importance=3):
    memory = memory_remember(
        character=character, text=text, importance=importance, embedder=hand_embed
    )
    created = NOW - timedelta(hours=hours_ago)
    Memory.objects.filter(pk=memory.pk).update(created_at=created)
    return memory


def ranked(character, **options):
    recalled = memories_retrieve(
        character=character, query="query", now=NOW, embedder=hand_embed, **options
    )
    return [r.text for r in recalled]


@pytest.mark.django_db
def test_relevance_ranks_when_age_and_importance_are_equal(cast):
    for text in ("off topic", "on topic", "half topic"):
        remember(cast["kenzaki"], text)
    assert ranked(cast["kenzaki"]) == ["on topic", "half topic", "off topic"]


@pytest.mark.django_db
def test_recency_and_importance_each_rank_when_the_rest_is_equal(cast):
    remember(cast["hajime"], "off topic", hours_ago=100)
    remember(cast["hajime"], "on topic", hours_ago=500)
    only_recency = ranked(cast["hajime"], weights=(1, 0, 0), touch=False)
    assert only_recency == ["off topic", "on topic"]
    remember(cast["mutsuki"], "off topic", importance=9)
    remember(cast["mutsuki"], "on topic", importance=2)
    assert ranked(cast["mutsuki"], weights=(0, 1, 0)) == ["off topic", "on topic"]


@pytest.mark.django_db
def test_scores_are_normalised_components_summed(cast):
    a = remember(cast["tachibana"], "on topic", hours_ago=200, importance=2)
    b = remember(cast["tachibana"], "half topic", hours_ago=0, importance=5)
    c = remember(cast["tachibana"], "off topic", hours_ago=100, importance=8)
    recalled = memories_retrieve(
        character=cast["tachibana"], query="query", now=NOW, embedder=hand_embed
    )
    scores = {r.memory.pk: r.score for r in recalled}
    recency = DECAY_PER_HOUR ** np.array([200, 0, 100])
    recency = (recency - recency.min()) / (recency.max() - recency.min())
    importance = np.array([0, 0.5, 1.0])
    relevance = np.array([1.0, 0.6, 0.0])
    expected = recency + importance + relevance
    for memory, score in zip((a, b, c), expected, strict=True):
        assert scores[memory.pk] == pytest.approx(score, abs=1e-5)
    order = np.argsort(-expected, kind="stable")
    assert [r.memory.pk for r in recalled] == [(a, b, c)[i].pk for i in order]


@pytest.mark.django_db
def test_retrieval_marks_only_what_it_returned_as_recalled(cast):
    kept = remember(cast["kenzaki"], "on topic")
    left = remember(cast["kenzaki"], "off topic")
    ranked(cast["kenzaki"], limit=1)
    kept.refresh_from_db()
    left.refresh_from_db()
    assert kept.last_accessed_at == NOW and left.last_accessed_at is None


@pytest.mark.django_db
def test_embeddings_are_stored_as_unit_float32(cast):
    memory = memory_remember(
        character=cast["kenzaki"], text="x", embedder=lambda t: np.array([[3.0, 4.0]])
    )
    memory.refresh_from_db()
    assert len(bytes(memory.embedding)) == 8
    assert vector_of(memory).tolist() == pytest.approx([0.6, 0.8])


@pytest.mark.django_db
def test_without_the_sentence_model_memories_still_work(cast):
    def broken(texts):
        raise EmbedderUnavailable("no model")

    memory = memory_remember(character=cast["hajime"], text="x", embedder=broken)
    assert bytes(memory.embedding) == b""
    assert memories_retrieve(character=cast["hajime"], query="x", embedder=broken)


def jacaranda():
    return performance_create(scene=Scene.objects.get(slug="jacaranda-after-the-fight"))


def say(performance, character, text, **fields):
    line = line_append(
        performance=performance, character=character, text=text, **fields
    )
    line_digest(line=line, embedder=hash_embed)
    return line


def known(character):
    return [m.text for m in Memory.objects.filter(character=character)]


@pytest.mark.django_db
def test_a_character_knows_only_what_it_witnessed(cast):
    performance = jacaranda()
    say(performance, cast["kenzaki"], "The Locust Undead hid in the quarry.")
    assert known(cast["amane"]) == []
    for slug in ("kenzaki", "hajime", "tachibana"):
        assert any("quarry" in text for text in known(cast[slug]))
    say(performance, cast["hajime"], "Amane, bring towels.")
    say(performance, cast["amane"], "Here you go. What happened?")
    amane = known(cast["amane"])
    assert not any("quarry" in text for text in amane)
    assert any("What happened?" in text for text in amane)


@pytest.mark.django_db
def test_observations_name_place_speaker_emotion_and_direction(cast):
    performance = jacaranda()
    say(performance, cast["kenzaki"], "Hajime!", emotion="anger", direction="shouts")
    memory = Memory.objects.get(character=cast["hajime"])
    assert (
        memory.text
        == 'At Café Jacaranda: Kazuma Kenzaki (shouts) said, anger: "Hajime!"'
    )
    assert memory.performance == performance and memory.kind == "observation"
    assert memory.importance == 8  # anger, an exclamation, and his own name
    assert Memory.objects.get(character=cast["tachibana"]).importance == 6


@pytest.mark.django_db
def test_each_witness_summarises_only_its_part_of_a_performance(cast):
    performance = jacaranda()
    say(performance, cast["kenzaki"], "The Locust Undead hid in the quarry.")
    say(performance, cast["tachibana"], "Amane, come down here.")
    say(performance, cast["amane"], "I brought curry.")
    stored = memories_summarise(performance=performance, embedder=hash_embed)
    by_slug = {m.character.slug: m for m in stored}
    assert sorted(by_slug) == ["amane", "hajime", "kenzaki", "tachibana"]
    assert by_slug["kenzaki"].text.startswith(
        'I was in "After the Fight at Jacaranda" (Café Jacaranda, evening).'
    )
    assert "quarry" in by_slug["hajime"].text and "curry" in by_slug["hajime"].text
    assert "quarry" not in by_slug["amane"].text and "curry" in by_slug["amane"].text
    assert by_slug["amane"].kind == "summary" and by_slug["amane"].importance == 6
    assert memories_summarise(performance=performance, embedder=hash_embed) == []


@pytest.mark.django_db
def test_a_later_performance_draws_on_an_earlier_summary(cast, monkeypatch):
    monkeypatch.setattr(memory_module, "_embedder", hash_embed)
    first = jacaranda()
    say(first, cast["kenzaki"], "The Locust Undead hid in the quarry by the sea.")
    memories_summarise(performance=first)
    second = jacaranda()
    say(second, cast["hajime"], "Where did the Locust Undead hide?")
    view = stage_view(performance=second, character=cast["tachibana"])
    assert any(m.startswith('I was in "After the Fight') for m in view.memories)
    assert any("quarry" in m for m in view.memories)
    assert not any("Where did" in m for m in view.memories)  # in the transcript


@pytest.mark.django_db
def test_witnessing_nobody_stores_nothing(cast):
    performance = jacaranda()
    line = line_append(performance=performance, character=cast["kenzaki"], text="Hm.")
    assert memories_witness(line=line, witnesses=[], embedder=hash_embed) == []


@pytest.mark.slow  # loading sentence-transformers takes 5-20 s on a busy CPU
@pytest.mark.django_db
def test_real_minilm_ranks_by_meaning(cast):
    started = time.perf_counter()
    for text in (
        "Hajime brewed coffee for the regulars at Jacaranda.",
        "The Undead escaped through the quarry tunnels at night.",
        "Kotaro bought a new notebook for his chapter.",
    ):
        memory_remember(character=cast["kenzaki"], text=text, embedder=minilm_embed)
    recalled = memories_retrieve(
        character=cast["kenzaki"],
        query="Where did the monster run away to?",
        embedder=minilm_embed,
        weights=(0, 0, 1),
    )
    assert recalled[0].text.startswith("The Undead escaped")
    assert recalled[0].relevance == 1.0 and recalled[-1].relevance == 0.0
    assert time.perf_counter() - started < 30
