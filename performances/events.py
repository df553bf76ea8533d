"""Events for a performance's websocket group, sent once their transaction commits."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

SEND_TIMEOUT = 10.0  # seconds a sender waits for the server's loop to take an event

_server_loop: asyncio.AbstractEventLoop | None = None


def server_loop_bind(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the web server's event loop, which owns the in-memory layer's queues."""
    global _server_loop
    _server_loop = loop


def performance_group(performance_id: int) -> str:
    """Return the channel-layer group name of a performance."""
    return f"performance.{performance_id}"


def send_now(performance_id: int, event: dict[str, Any]) -> None:
    """Send `event` (a dict with a `type`) to the performance's group at once.

    The in-memory layer's queues belong to the server's event loop and are not
    thread-safe, so senders on other threads (the embedded worker, sync views) hand
    the send to that loop. Before the server has seen a request nobody can be
    listening, and there is nothing to send to.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    group = performance_group(performance_id)
    if isinstance(layer, InMemoryChannelLayer) and _server_loop is not None:
        if _server_loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(
            layer.group_send(group, event), _server_loop
        )
        future.result(timeout=SEND_TIMEOUT)
        return
    async_to_sync(layer.group_send)(group, event)


def send_on_commit(performance_id: int, event: dict[str, Any]) -> None:
    """Send `event` once the transaction commits; never for a rolled-back one."""
    transaction.on_commit(lambda: send_now(performance_id, event))
