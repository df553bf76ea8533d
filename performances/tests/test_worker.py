"""The stage worker: leases, crashes, pause and stop, human turns, streaming."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from agents import memory, minds
from agents.models import Memory
from agents.tests.scripted import ScriptedBackend, hash_embed
from performances import leases, performers, services
from performances.models import Line, Performance, Scene
from performances.worker import StageWorker, WorkerOptions
from stageplay.accounts.models import Consent, Role
from stageplay.accounts.services import account_signup, consent_give

pytestmark = pytest.mark.django_db(transaction=True)
Status = Performance.Status


class WorkerCrash(BaseException):
    """Stands in for the process dying: nothing below the worker catches it."""


class CrashingBackend(ScriptedBackend):
    """Streams half a line, then the worker 'dies'."""

    def stream(self, request, cancel=None):
        yield "[anger] Half a"
        raise WorkerCrash()


def options(**overrides) -> WorkerOptions:
    values = dict(
        lease_seconds=30,
        poll_seconds=0.05,
        pace_seconds=0,
        human_seconds=0.6,
        delta_interval=0,
    )
    values.update(overrides)
    return WorkerOptions(**values)


@pytest.fixture(autouse=True)
def quick_minds(monkeypatch):
    """Word-hash memories and a scripted backend unless a test picks another."""
    memory.embedder_set(hash_embed)
    backend = ScriptedBackend(
        [
            "[determination] (steps forward) We move at dawn, all of us.",
            "[calm] The readings say two of them, near the river.",
            "[fear] Then someone has to watch the gate tonight.",
        ]
    )
    monkeypatch.setattr(minds, "backend_for", lambda *a, **k: backend)
    yield backend
    memory.embedder_set(None)
    minds.backend_cache_clear()


def running(cast, turn_limit=4, slug="jacaranda-after-the-fight") -> Performance:
    scene = Scene.objects.get(slug=slug)
    performance = services.performance_create(
        scene=scene, seed=5, turn_limit=turn_limit
    )
    return services.performance_start(performance=performance)


def test_worker_performs_the_scene_to_its_turn_limit(cast):
    performance = running(cast, turn_limit=4)
    worker = StageWorker(options(), name="w1")
    assert worker.run_once() is True
    performance.refresh_from_db()
    assert performance.status == Status.FINISHED
    lines = list(performance.lines.all())
    assert [line.index for line in lines] == [0, 1, 2, 3]
    assert all(line.emotion and line.text for line in lines)
    assert performance.lease_owner == ""
    assert Memory.objects.filter(performance=performance, kind="summary").exists()


def test_worker_streams_start_deltas_and_end_in_order(cast, monkeypatch):
    sent = []
    monkeypatch.setattr("performances.worker.send_now", lambda pk, e: sent.append(e))
    monkeypatch.setattr("performances.events.send_now", lambda pk, e: sent.append(e))
    performance = running(cast, turn_limit=1)
    StageWorker(options(), name="w1").run_once()
    types = [e["type"] for e in sent if e["type"].startswith("line.")]
    assert types[0] == "line.start" and types[-1] == "line.end"
    assert "line.delta" in types
    streamed = "".join(e["text"] for e in sent if e["type"] == "line.delta")
    end = next(e for e in sent if e["type"] == "line.end")
    assert end["text"] in streamed and end["index"] == 0
    assert performance.lines.get().text == end["text"]


def test_deltas_are_coalesced_by_interval(cast, monkeypatch):
    sent = []
    monkeypatch.setattr("performances.worker.send_now", lambda pk, e: sent.append(e))
    running(cast, turn_limit=1)
    StageWorker(options(delta_interval=60), name="w1").run_once()
    deltas = [e for e in sent if e["type"] == "line.delta"]
    # The first piece goes at once; the rest wait for the interval or the line's end.
    assert len(deltas) == 2


def test_two_workers_never_drive_one_performance(cast):
    performance = running(cast)
    winners = []
    barrier = threading.Barrier(2)

    def claim(name):
        barrier.wait()
        if leases.lease_claim(owner=name, seconds=30):
            winners.append(name)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert StageWorker(options(), name="w3").run_once() is False
    performance.refresh_from_db()
    assert performance.lease_owner == winners[0]


def test_crash_mid_line_leaves_no_partial_line_and_the_next_worker_resumes(
    cast, monkeypatch, quick_minds
):
    performance = running(cast, turn_limit=4)
    services.line_append(performance=performance, character=cast["kenzaki"], text="Go.")
    monkeypatch.setattr(minds, "backend_for", lambda *a, **k: CrashingBackend())
    crashed = StageWorker(options(lease_seconds=30), name="crashed")
    with pytest.raises(WorkerCrash):
        crashed.run_once()
    assert list(performance.lines.values_list("index", flat=True)) == [0]
    performance.refresh_from_db()
    assert performance.lease_owner == "crashed"
    assert StageWorker(options(), name="early").run_once() is False

    Performance.objects.filter(pk=performance.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    monkeypatch.setattr(minds, "backend_for", lambda *a, **k: quick_minds)
    assert StageWorker(options(), name="heir").run_once() is True
    assert list(performance.lines.values_list("index", flat=True)) == [0, 1, 2, 3]
    performance.refresh_from_db()
    assert performance.status == Status.FINISHED


def test_pause_and_stop_take_effect_within_one_turn(cast):
    performance = running(cast, turn_limit=40)
    worker = StageWorker(options(pace_seconds=0.05), name="w1")
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        wait_for(lambda: performance.lines.count() >= 2)
        services.performance_pause(performance=performance)
        paused_at = performance.lines.count()
        time.sleep(0.5)
        assert performance.lines.count() <= paused_at + 1
        settled = performance.lines.count()
        time.sleep(0.3)
        assert performance.lines.count() == settled

        services.performance_resume(performance=performance)
        wait_for(lambda: performance.lines.count() >= settled + 2)
        services.performance_finish(performance=performance)
        stopped_at = performance.lines.count()
        time.sleep(0.5)
        assert performance.lines.count() <= stopped_at + 1
    finally:
        worker.stop()
        thread.join(timeout=5)
    indexes = list(performance.lines.values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def performer(cast):
    user = account_signup(
        username="ryo", email="", password="x-strong-pass-1", role=Role.PERFORMER
    )
    consent_give(user=user, purpose=Consent.Purpose.PERFORMING)
    return user


def test_a_silent_human_is_covered_by_an_understudy(cast, performer):
    performance = running(cast, turn_limit=3)
    performance.strategy = Performance.Strategy.ROUND_ROBIN
    performance.save(update_fields=["strategy"])
    first = performance.scene.roles.first().character
    performers.role_claim(performance=performance, user=performer, character=first)
    StageWorker(options(human_seconds=0.3), name="w1").run_once()
    line = performance.lines.get(index=0)
    assert line.character == first
    assert line.understudy is True and line.author == Line.Author.AGENT
    performance.refresh_from_db()
    assert performance.awaiting_character is None


def test_a_human_line_in_time_is_performed(cast, performer):
    performance = running(cast, turn_limit=2)
    performance.strategy = Performance.Strategy.ROUND_ROBIN
    performance.save(update_fields=["strategy"])
    first = performance.scene.roles.first().character
    performers.role_claim(performance=performance, user=performer, character=first)
    worker = StageWorker(options(human_seconds=10), name="w1")
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    try:
        wait_for(
            lambda: Performance.objects.get(pk=performance.pk).awaiting_character_id
        )
        performers.human_line_speak(
            performance=performance, user=performer, text="<b>I</b> will hold the gate."
        )
    finally:
        thread.join(timeout=10)
    line = performance.lines.get(index=0)
    assert line.author == Line.Author.HUMAN and line.performer == performer
    assert line.text == "<b>I</b> will hold the gate."
    assert performance.lines.get(index=1).author == Line.Author.AGENT
