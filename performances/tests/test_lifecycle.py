"""Performances: status transitions, line indexes and the events they send."""

import pytest
from django.db import IntegrityError, transaction

from performances import services
from performances.models import Line, Performance, Scene
from performances.services import TransitionError

pytestmark = pytest.mark.django_db
Status = Performance.Status


@pytest.fixture
def performance(cast):
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    return services.performance_create(scene=scene, seed=7)


def test_new_performance_is_scheduled_with_its_seed(performance):
    assert performance.status == Status.SCHEDULED
    assert performance.seed == 7


def test_scene_without_cast_cannot_be_performed(cast):
    scene = Scene.objects.create(slug="empty", title="Empty stage")
    with pytest.raises(Exception, match="has no cast"):
        services.performance_create(scene=scene)


def test_full_life_cycle_records_timestamps(performance):
    services.performance_start(performance=performance)
    assert performance.status == Status.RUNNING and performance.started_at
    services.performance_pause(performance=performance)
    services.performance_resume(performance=performance)
    services.performance_finish(performance=performance)
    assert performance.status == Status.FINISHED and performance.finished_at


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], Status.PAUSED),
        ([], Status.FINISHED),
        ([Status.RUNNING], Status.SCHEDULED),
        ([Status.RUNNING, Status.FINISHED], Status.RUNNING),
        ([Status.FAILED], Status.RUNNING),
    ],
)
def test_illegal_transition_says_what_is_allowed(performance, path, illegal):
    for status in path:
        services.performance_transition(performance=performance, to=status)
    before = performance.status
    with pytest.raises(TransitionError) as exc:
        services.performance_transition(performance=performance, to=illegal)
    assert f"cannot become {illegal}" in str(exc.value)
    performance.refresh_from_db()
    assert performance.status == before


def test_failure_keeps_its_reason(performance):
    services.performance_start(performance=performance)
    services.performance_fail(performance=performance, reason="model server down")
    assert performance.failure_reason == "model server down"


def test_lines_get_consecutive_indexes(performance, cast):
    first = services.line_append(
        performance=performance, character=cast["kenzaki"], text="Let's go."
    )
    second = services.line_append(
        performance=performance, text="Rain falls.", kind="narration"
    )
    assert (first.index, second.index) == (0, 1)
    assert second.speaker_name == "Narrator" and second.character is None


def test_duplicate_line_index_is_rejected_by_the_database(performance):
    Line.objects.create(performance=performance, index=0, speaker_name="A", text="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Line.objects.create(
            performance=performance, index=0, speaker_name="B", text="y"
        )


def test_events_after_commit_carry_the_line(
    performance, cast, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "performances.events.send_now", lambda pk, event: sent.append((pk, event))
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.line_append(
            performance=performance,
            character=cast["hajime"],
            text="Two of them.",
            emotion="calm",
            direction="without looking up",
        )
        services.performance_start(performance=performance)
    assert [e["type"] for _, e in sent] == ["line.end", "status"]
    assert sent[0][1]["text"] == "Two of them."
    assert sent[0][1]["direction"] == "without looking up"
    assert sent[1][1]["status"] == Status.RUNNING


def test_rolled_back_line_sends_nothing(
    performance, cast, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "performances.events.send_now", lambda pk, event: sent.append(event)
    )
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.line_append(performance=performance, text="Lost line.")
                raise RuntimeError("worker died")
        except RuntimeError:
            pass
    assert sent == []
    assert not Line.objects.filter(performance=performance).exists()
