"""The per-process fan-out: one relay per performance, however many viewers."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from performances import fanout
from performances.events import performance_group
from performances.fanout import (
    FRAME,
    VIEWERS_LAYER,
    ViewersLayer,
    relays_here,
    viewer_join,
    viewer_leave,
)
from performances.tests.test_consumers import connect
from performances.tests.test_consumers import performance as running_performance

pytestmark = pytest.mark.django_db(transaction=True)
performance = running_performance  # a running show with two lines


async def default_members(group: str) -> list:
    """Return the default layer's members of `group`, in memory or in Redis."""
    layer = get_channel_layer()
    if hasattr(layer, "groups"):  # InMemoryChannelLayer
        return list(layer.groups.get(group, {}))
    connection = layer.connection(layer.consistent_hash(group))  # channels-redis
    return await connection.zrange(layer._group_key(group), 0, -1)


async def test_many_viewers_share_one_relay_that_ends_with_the_last(performance):
    group = performance_group(performance.pk)
    viewers = [await connect(performance.pk) for _ in range(3)]
    for communicator, connected, _ in viewers:
        assert connected
        assert (await communicator.receive_json_from())["type"] == "snapshot"

    assert len(await default_members(group)) == 1  # one relay channel, not three
    assert relays_here().by_performance[performance.pk].viewers == 3

    await get_channel_layer().group_send(group, {"type": "status", "status": "paused"})
    for communicator, _, _ in viewers:
        assert await communicator.receive_json_from() == {
            "type": "status",
            "status": "paused",
        }

    for communicator, _, _ in viewers[:2]:
        await communicator.disconnect()
    assert len(await default_members(group)) == 1
    await viewers[2][0].disconnect()
    assert await default_members(group) == []
    assert performance.pk not in relays_here().by_performance


async def test_a_viewer_who_cannot_keep_up_loses_frames_not_the_others():
    layer = ViewersLayer(capacity=2)
    slow, quick = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("performance.9", slow)
    await layer.group_add("performance.9", quick)

    received = []
    for n in range(4):
        await layer.group_send("performance.9", {"type": FRAME, "text": str(n)})
        received.append(await layer.receive(quick))

    assert [m["text"] for m in received] == ["0", "1", "2", "3"]
    assert [(await layer.receive(slow))["text"] for _ in range(2)] == ["0", "1"]
    assert layer.queues[slow].empty()  # frames 2 and 3 were dropped for it alone

    await layer.group_discard("performance.9", slow)
    assert slow not in layer.queues and layer.groups["performance.9"] == {quick}


async def test_join_and_leave_keep_count_of_the_viewers_here(performance):
    viewers = get_channel_layer(VIEWERS_LAYER)
    first, second = await viewers.new_channel(), await viewers.new_channel()

    await viewer_join(performance.pk, first)
    await viewer_join(performance.pk, second)
    relay = relays_here().by_performance[performance.pk]
    assert relay.viewers == 2
    await viewer_leave(performance.pk, first)
    assert not relay.task.done()
    await viewer_leave(performance.pk, second)
    await viewer_leave(performance.pk, second)  # a second leave changes nothing

    assert relay.task.cancelled()
    assert performance.pk not in relays_here().by_performance


async def test_a_relay_that_fails_while_ending_ends_instead_of_retrying(monkeypatch):
    # a layer whose receive turns the cancellation into another error (a connection
    # torn down mid-read): the relay must end, not log and retry for ever
    class Hangs:
        async def receive(self, channel):
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise RuntimeError("connection closed while reading") from None

    monkeypatch.setattr(fanout, "get_channel_layer", lambda alias=None: Hangs())
    relay = asyncio.create_task(fanout.relay_frames("performance-0", "relay.x"))
    await asyncio.sleep(0)  # the relay now waits in receive
    relay.cancel()
    done, _ = await asyncio.wait([relay], timeout=fanout.RETRY_SECONDS * 3)
    assert relay in done
    with pytest.raises(RuntimeError, match="connection closed"):
        relay.result()
