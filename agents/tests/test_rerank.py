"""Best-of-N re-ranking: scoring candidates, saving the reranker, minds using it."""

from __future__ import annotations

import json
import threading

import pytest

from agents import rerank
from agents.backends import GenerationRequest
from agents.promptbook import Cue, ScriptLine
from agents.rerank import (
    RERANKER_DIR,
    Reranker,
    context_of,
    pick_best,
    reranker_build,
    reranker_cache_clear,
    reranker_for,
)
from agents.tests.scripted import ScriptedBackend, hash_embed
from agents.training.toy import TASKS, toy_scenes

NURSE = TASKS[2]  # "How can a tired night nurse keep her sleep on a rotating schedule?"
ON_TOPIC = "[calm] A night nurse should keep her sleep at the same hours every week."
OFF_TOPIC = "[joy] The quarry is quiet, let us eat noodles at the cafe tonight."
ECHO = "[calm] How can a tired night nurse keep her sleep? Leave it to me."
SHORT = "[calm] Sleep."


@pytest.fixture(scope="module")
def reranker() -> Reranker:
    return Reranker(embed=hash_embed).fit(toy_scenes())


@pytest.fixture
def saved(reranker, tmp_path, monkeypatch):
    """Return a model directory holding a saved reranker (hash-embedding)."""
    monkeypatch.setattr(rerank, "sentence_embed", hash_embed)
    reranker.save(tmp_path / RERANKER_DIR)
    reranker_cache_clear()
    yield tmp_path
    reranker_cache_clear()


class BatchCounting(ScriptedBackend):
    """A scripted backend that counts its batched calls and may sit beside a model."""

    def __init__(self, outputs, path=None):
        super().__init__(outputs)
        self.path = path
        self.batches = 0

    def generate_batch(self, requests, cancel=None):
        self.batches += 1
        return super().generate_batch(requests, cancel)


def totals(reranker, texts, speaker="nobody", context=NURSE):
    return [s.total for s in reranker.score(texts, speaker=speaker, context=context)]


def test_the_speakers_own_voice_scores_higher(reranker):
    hajime = "Don't get in my way. Leave me alone, human."
    kenzaki = "We cannot give up, I will protect everyone no matter what!"
    assert reranker.best([kenzaki, hajime], speaker="hajime", context="") == 1
    assert reranker.best([hajime, kenzaki], speaker="kenzaki", context="") == 1


def test_an_answer_on_the_task_beats_an_off_topic_one(reranker):
    on, off = totals(reranker, [ON_TOPIC[7:], OFF_TOPIC[6:]])
    assert on > off


def test_echoing_the_task_loses_though_it_is_closest_to_it(reranker):
    on, echo = reranker.score([ON_TOPIC[7:], ECHO[7:]], speaker="nobody", context=NURSE)
    assert echo.echo and not on.echo
    assert on.total > echo.total


def test_a_very_short_line_loses_to_a_fuller_one_that_fits_as_well(reranker):
    short, fuller = reranker.score(
        ["Sleep.", "Sleep, then we go."], speaker="nobody", context=""
    )
    assert short.short and not fuller.short
    assert fuller.total - short.total == pytest.approx(rerank.SHORT_PENALTY)


def test_an_unknown_speaker_is_judged_on_the_context_alone(reranker):
    assert reranker.speaker_fit(["Leave me alone."], "hirose").tolist() == [0.0]


def test_a_saved_reranker_scores_the_same_once_loaded(reranker, tmp_path):
    texts = [ON_TOPIC, OFF_TOPIC, ECHO]
    reranker.save(tmp_path / "r")
    loaded = Reranker.load(tmp_path / "r", embed=hash_embed)
    assert loaded.speakers == reranker.speakers
    assert totals(loaded, texts, "tachibana") == pytest.approx(
        totals(reranker, texts, "tachibana")
    )


def test_loading_a_missing_reranker_says_how_to_build_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="manage.py build_reranker"):
        Reranker.load(tmp_path)


def test_fitting_needs_two_speakers():
    scenes = toy_scenes(2)
    for scene in scenes:
        scene.lines = [line for line in scene.lines if line.speaker == "kenzaki"]
    with pytest.raises(ValueError, match="at least two speakers"):
        Reranker().fit(scenes)


def test_the_context_is_the_task_else_the_last_lines():
    lines = [ScriptLine("kenzaki", f"Line {i}.") for i in range(5)]
    assert context_of(Cue("hajime", "A lab.", NURSE, lines)) == NURSE
    assert context_of(Cue("hajime", "A lab.", "", lines)) == "Line 2. Line 3. Line 4."
    assert context_of(Cue("hajime", "A lab.")) == "A lab."


def test_the_best_of_n_is_drawn_in_one_batch_and_kept(reranker):
    backend = BatchCounting([OFF_TOPIC, ECHO, ON_TOPIC, SHORT])
    request = GenerationRequest(max_new_tokens=20, seed=7)
    pick = pick_best(
        backend,
        request,
        count=4,
        reranker=reranker,
        speaker="nobody",
        context=NURSE,
        text_of=lambda raw: raw.split("] ", 1)[-1],
    )
    assert backend.batches == 1 and backend.calls == 4
    assert pick.chosen.text == ON_TOPIC and pick.index == 2
    seeds = [r.seed for r in backend.requests]
    assert seeds[0] == 7 and len(set(seeds)) == 4  # the first is a single draw's


def test_candidates_without_text_are_never_kept(reranker):
    backend = BatchCounting(["[calm] ", "[joy] Fine, then."])
    pick = pick_best(
        backend,
        GenerationRequest(seed=1),
        count=2,
        reranker=reranker,
        speaker="nobody",
        context="",
        text_of=lambda raw: raw.split("]", 1)[-1].strip(),
    )
    assert pick.index == 1 and pick.scores[0] is None


def test_a_reranker_is_found_beside_the_model_only_when_saved(saved, tmp_path_factory):
    assert isinstance(reranker_for(BatchCounting([SHORT], path=saved)), Reranker)
    empty = tmp_path_factory.mktemp("no_reranker")
    assert reranker_for(BatchCounting([SHORT], path=empty)) is None
    assert reranker_for(ScriptedBackend()) is None  # no model directory at all


def test_a_broken_reranker_is_ignored(tmp_path):
    (tmp_path / RERANKER_DIR).mkdir()
    (tmp_path / RERANKER_DIR / rerank.META_FILE).write_text("{}")
    reranker_cache_clear()
    assert reranker_for(BatchCounting([SHORT], path=tmp_path)) is None


def test_the_reranker_is_built_on_the_training_split_only(tmp_path):
    scenes = toy_scenes(9)
    train, held = scenes[:7], scenes[7:]
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "training.json").write_text(
        json.dumps(
            {
                "config": {"holdout": 0.1, "seed": 1},
                "train_titles": [s.title for s in train],
                "heldout_titles": [s.title for s in held],
            }
        )
    )
    directory = reranker_build(tmp_path, scenes, log=lambda message: None)
    meta = json.loads((directory / rerank.META_FILE).read_text())
    assert meta["titles"] == sorted(s.title for s in train)
    assert meta["weights"]["echo"] == rerank.ECHO_PENALTY
    assert (directory / rerank.CLASSIFIER_FILE).is_file()


# Minds and the council


def council_with(backend, character, **options):
    from agents.council import council_answer

    return council_answer(character=character, task=NURSE, backend=backend, **options)


def test_a_council_agent_answers_with_the_best_of_n_and_streams_it(cast, saved):
    backend = BatchCounting([OFF_TOPIC, ECHO, ON_TOPIC, SHORT], path=saved)
    deltas = []
    answer = council_with(backend, cast["tachibana"], on_delta=deltas.append)
    assert backend.batches == 1 and backend.calls == 4
    assert answer.text == ON_TOPIC[7:]
    assert "".join(deltas) == ON_TOPIC and len(deltas) > 3
    assert answer.latency_ms >= 0


def test_best_of_one_streams_a_single_candidate(cast, saved, settings):
    settings.STAGEPLAY = {**settings.STAGEPLAY, "BEST_OF": 1}
    backend = BatchCounting([OFF_TOPIC, ON_TOPIC], path=saved)
    deltas = []
    answer = council_with(backend, cast["tachibana"], on_delta=deltas.append)
    assert (backend.batches, backend.calls) == (0, 1)
    assert answer.text == OFF_TOPIC[6:] and "".join(deltas) == OFF_TOPIC


def test_without_a_reranker_a_mind_draws_one_candidate(cast, tmp_path):
    backend = BatchCounting([OFF_TOPIC, ON_TOPIC], path=tmp_path)
    answer = council_with(backend, cast["tachibana"])
    assert (backend.batches, backend.calls) == (0, 1)
    assert answer.text == OFF_TOPIC[6:]


def test_a_cancelled_best_of_line_raises_and_streams_no_more(cast, saved):
    from agents.minds import TurnCancelled, line_generate
    from performances.models import Scene
    from performances.services import performance_create

    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    performance = performance_create(scene=scene)
    backend = BatchCounting([ON_TOPIC], path=saved)
    cancel, deltas = threading.Event(), []

    def hear(piece):
        deltas.append(piece)
        cancel.set()

    with pytest.raises(TurnCancelled):
        line_generate(
            performance=performance,
            character=cast["kenzaki"],
            backend=backend,
            on_delta=hear,
            cancel=cancel,
        )
    assert len(deltas) == 1 and not performance.lines.exists()


def test_a_cancel_before_the_batch_streams_nothing(cast, saved):
    from agents.minds import TurnCancelled, line_generate
    from performances.models import Scene
    from performances.services import performance_create

    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    backend = BatchCounting([ON_TOPIC], path=saved)
    cancel, deltas = threading.Event(), []
    cancel.set()
    with pytest.raises(TurnCancelled):
        line_generate(
            performance=performance_create(scene=scene),
            character=cast["kenzaki"],
            backend=backend,
            on_delta=deltas.append,
            cancel=cancel,
        )
    assert deltas == []


@pytest.fixture
def embedded_with_reranker(reranker, tmp_path, monkeypatch):
    """Return the embedded backend of a tiny stage model with a reranker beside it."""
    import shutil

    from agents.backends.embedded import EmbeddedBackend
    from agents.tests.scripted import quick_stage_model

    monkeypatch.setattr(rerank, "sentence_embed", hash_embed)
    model = shutil.copytree(quick_stage_model(), tmp_path / "model")
    reranker.save(model / RERANKER_DIR)
    reranker_cache_clear()
    yield EmbeddedBackend(path=model, device="cpu")
    reranker_cache_clear()


def test_the_embedded_backend_answers_with_its_best_candidate(
    cast, embedded_with_reranker, monkeypatch
):
    from agents.minds import spoken_text

    backend, drawn = embedded_with_reranker, []
    batch = backend.generate_batch

    def recording(requests, cancel=None):
        drawn.extend(batch(requests, cancel))
        return drawn

    monkeypatch.setattr(backend, "generate_batch", recording)
    tachibana, deltas = cast["tachibana"], []
    tachibana.analysis_depth = "low"  # short answers, a quick test
    answer = council_with(backend, tachibana, on_delta=deltas.append)
    assert len(drawn) == 4
    texts = [spoken_text(g.text, tachibana, [], one_line=False).text for g in drawn]
    scores = rerank.Reranker.load(backend.path / RERANKER_DIR).score(
        texts, speaker="tachibana", context=NURSE
    )
    best = max(range(4), key=lambda i: (scores[i].total, -i))
    assert answer.text == texts[best]
    assert "".join(deltas) == drawn[best].text


def test_a_cancelled_batch_stops_every_candidate(embedded_with_reranker):
    cancel = threading.Event()
    cancel.set()
    request = GenerationRequest(cue=Cue("kenzaki", "A lab."), max_new_tokens=16)
    generations = embedded_with_reranker.generate_batch([request] * 3, cancel=cancel)
    assert [g.finish_reason for g in generations] == ["cancelled"] * 3
    assert all(g.text == "" for g in generations)
