"""A live daphne server with its embedded worker, and headless Chromium, for e2e tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections

from performances.worker import worker_thread_start
from stageplay.embedded import worker_in_process


def _server_setup() -> None:
    """Prepare the forked server, which already points at the test database.

    Threads do not survive a fork, but asgiref's executor for thread-sensitive
    work (every database call of a consumer) would still believe its worker
    thread exists and queue work forever: give it a fresh one.
    """
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def stage_server(transactional_db, settings):
    """Serve the project with daphne in a forked process, embedded worker included."""
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    connections.close_all()
    # The fork must build its own in-memory layer on its own event loop: one made
    # by an earlier test here is bound to a loop the server does not run.
    channel_layers.backends.clear()
    process = DaphneProcess(
        "localhost",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=_server_setup,
    )
    process.start()
    while not process.ready.wait(timeout=1):
        if not process.is_alive():
            raise RuntimeError("daphne did not start")
    # With Redis the web process drives nothing: a worker process of its own does,
    # played here by a worker thread of the test process.
    worker = None if worker_in_process() else worker_thread_start()
    yield f"http://localhost:{process.port.value}"
    if worker is not None:
        worker.stop()
    process.terminate()
    process.join()
