"""`perform --detach` hands a performance to the stage workers and returns at once."""

from io import StringIO

import pytest
from django.core.management import call_command

from agents import memory, minds
from agents.tests.scripted import ScriptedBackend, hash_embed
from performances.models import Performance
from performances.worker import StageWorker, WorkerOptions

pytestmark = pytest.mark.django_db(transaction=True)


def test_detached_performance_is_left_to_a_worker(cast, monkeypatch, settings):
    settings.STAGEPLAY = {**settings.STAGEPLAY, "SITE_URL": "http://stage.test"}
    memory.embedder_set(hash_embed)
    backend = ScriptedBackend(["[joy] (grins) The coffee is on me today, Hajime."])
    monkeypatch.setattr(minds, "backend_for", lambda *a, **k: backend)
    out = StringIO()
    call_command(
        "perform", "jacaranda-after-the-fight", "--turns", "2", "--detach", stdout=out
    )
    performance = Performance.objects.get()
    assert performance.status == Performance.Status.RUNNING
    assert not performance.lines.exists()
    text = out.getvalue()
    assert f"Performance {performance.pk}" in text
    assert f"http://stage.test/performances/{performance.pk}/" in text

    options = WorkerOptions(
        lease_seconds=30,
        poll_seconds=0.05,
        pace_seconds=0,
        human_seconds=1,
        delta_interval=0,
    )
    assert StageWorker(options, name="w").run_once()
    performance.refresh_from_db()
    assert performance.status == Performance.Status.FINISHED
    assert performance.lines.count() == 2
    memory.embedder_set(None)
