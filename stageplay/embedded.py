"""The embedded mode: a stage worker inside the web process when no Redis links them."""

from __future__ import annotations

import asyncio
import logging
import os

from django.conf import settings

from performances.events import server_loop_bind
from stageplay.conf import stage_settings

log = logging.getLogger(__name__)


def worker_in_process() -> bool:
    """Return whether this web process should drive performances itself."""
    chosen = stage_settings.WORKER_IN_PROCESS
    if chosen is None:
        layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        return layer.endswith("InMemoryChannelLayer")
    return bool(chosen)


def start_embedded_worker() -> None:
    """Start the in-process stage worker when the embedded mode asks for one."""
    if os.environ.get("STAGEPLAY_NO_WORKER") or not worker_in_process():
        return
    from performances.worker import worker_thread_start

    worker = worker_thread_start()
    log.info("embedded stage worker %s started in the web process", worker.name)


class ServerLoopBinder:
    """ASGI wrapper that tells the event senders which loop serves the sockets."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        server_loop_bind(asyncio.get_running_loop())
        return await self.application(scope, receive, send)
