"""Events for a performance's websocket group, sent once their transaction commits."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def performance_group(performance_id: int) -> str:
    """Return the channel-layer group name of a performance."""
    return f"performance.{performance_id}"


def send_now(performance_id: int, event: dict[str, Any]) -> None:
    """Send `event` (a dict with a `type`) to the performance's group at once."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(performance_group(performance_id), event)


def send_on_commit(performance_id: int, event: dict[str, Any]) -> None:
    """Send `event` once the transaction commits; never for a rolled-back one."""
    transaction.on_commit(lambda: send_now(performance_id, event))
