"""Per-process fan-out of a performance's frames to the viewers this process serves.

Each web process joins a performance's group on the default channel layer (Redis
when scaled out) with one relay channel, however many of its viewers watch; the
relay hands every frame to the viewers' group on the in-process "viewers" layer,
a `ViewersLayer`. With Redis a frame then costs one message per web process instead
of one per viewer, and a viewer's connect costs no Redis round trip once the
performance is relayed here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import weakref
from dataclasses import dataclass

from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer, get_channel_layer

from performances.events import performance_group

logger = logging.getLogger(__name__)

VIEWERS_LAYER = "viewers"  # the in-process layer alias the viewers' consumers use
FRAME = "stage.frame"  # a relayed event, JSON-encoded once for every viewer
RETRY_SECONDS = 1.0  # pause before a relay receives again after a layer error


class ViewersLayer(BaseChannelLayer):
    """An in-process channel layer for many viewers of few groups.

    Channels' InMemoryChannelLayer scans every channel for expired messages on each
    receive and copies each message per channel, which grows with the square of the
    viewers; here a group send puts the same frame (never changed by a consumer) on
    each member's queue, and a full queue (a viewer too slow to read) drops the frame
    for that viewer alone. Channels leave with their group (`group_discard`).
    """

    extensions = ["groups"]

    def __init__(self, capacity: int = 100, **kwargs) -> None:
        super().__init__(capacity=capacity, **kwargs)
        self.queues: dict[str, asyncio.Queue] = {}
        self.groups: dict[str, set[str]] = {}

    def _queue(self, channel: str) -> asyncio.Queue:
        if channel not in self.queues:
            self.queues[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return self.queues[channel]

    async def new_channel(self, prefix: str = "specific.") -> str:
        return f"{prefix}viewers!{uuid.uuid4().hex}"

    async def send(self, channel: str, message: dict) -> None:
        self.require_valid_channel_name(channel)
        try:
            self._queue(channel).put_nowait(message)
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def receive(self, channel: str) -> dict:
        self.require_valid_channel_name(channel)
        return await self._queue(channel).get()

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        self.groups.setdefault(group, set()).add(channel)

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        members = self.groups.get(group, set())
        members.discard(channel)
        if not members:
            self.groups.pop(group, None)
        if not any(channel in m for m in self.groups.values()):
            self.queues.pop(channel, None)

    async def group_send(self, group: str, message: dict) -> None:
        self.require_valid_group_name(group)
        for channel in self.groups.get(group, ()):
            try:
                self._queue(channel).put_nowait(message)
            except asyncio.QueueFull:
                logger.debug("viewer %s is behind; a frame is dropped", channel)


@dataclass
class Relay:
    """The default layer's channel that takes one performance's frames here."""

    channel: str
    task: asyncio.Task
    viewers: int = 0


class Relays:
    """The relays of one event loop, by performance id."""

    def __init__(self) -> None:
        self.by_performance: dict[int, Relay] = {}
        self.lock = asyncio.Lock()


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relays] = (
    weakref.WeakKeyDictionary()
)


def relays_here() -> Relays:
    """Return the relays of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _relays:
        _relays[loop] = Relays()
    return _relays[loop]


async def viewer_join(performance_id: int, channel_name: str) -> None:
    """Add a viewer's channel to the performance's group, relaying it here if new."""
    group = performance_group(performance_id)
    await get_channel_layer(VIEWERS_LAYER).group_add(group, channel_name)
    relays = relays_here()
    async with relays.lock:
        relay = relays.by_performance.get(performance_id)
        if relay is None:
            layer = get_channel_layer()
            channel = await layer.new_channel()
            await layer.group_add(group, channel)
            task = asyncio.create_task(relay_frames(group, channel))
            relay = relays.by_performance[performance_id] = Relay(channel, task)
        relay.viewers += 1


async def viewer_leave(performance_id: int, channel_name: str) -> None:
    """Remove a viewer's channel; the last viewer here ends the relay."""
    group = performance_group(performance_id)
    await get_channel_layer(VIEWERS_LAYER).group_discard(group, channel_name)
    relays = relays_here()
    async with relays.lock:
        relay = relays.by_performance.get(performance_id)
        if relay is None:
            return
        relay.viewers -= 1
        if relay.viewers > 0:
            return
        del relays.by_performance[performance_id]
        relay.task.cancel()
        await asyncio.gather(relay.task, return_exceptions=True)  # let it end
        await get_channel_layer().group_discard(group, relay.channel)


async def relay_frames(group: str, channel: str) -> None:
    """Forward every frame the default layer delivers on `channel` to the viewers."""
    layer, viewers = get_channel_layer(), get_channel_layer(VIEWERS_LAYER)
    while True:
        try:
            event = await layer.receive(channel)
            await viewers.group_send(group, {"type": FRAME, "text": json.dumps(event)})
        except asyncio.CancelledError:
            raise
        except Exception:  # a lost Redis connection: keep relaying once it is back
            if asyncio.current_task().cancelling():
                raise  # ending: a failure on the way out is no reason to retry
            logger.exception("relaying %s failed; retrying", group)
            await asyncio.sleep(RETRY_SECONDS)
