"""The performance websocket: snapshot, live frames, bad input and abusive clients."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator

from performances import services
from performances.consumers import FLOOD_MESSAGES, MAX_FRAME_BYTES
from performances.events import performance_group
from performances.models import Performance, Reaction, Scene
from performances.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

application = AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns))


@pytest.fixture
def performance(cast):
    scene = Scene.objects.get(slug="jacaranda-after-the-fight")
    performance = services.performance_create(scene=scene, seed=3)
    services.performance_start(performance=performance)
    for text in ("The rain stopped.", "Hajime, you let it go."):
        services.line_append(
            performance=performance, character=cast["kenzaki"], text=text
        )
    return performance


async def connect(performance_id, origin=b"http://127.0.0.1:8000"):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/performances/{performance_id}/",
        headers=[(b"origin", origin), (b"host", b"127.0.0.1:8000")],
    )
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_late_viewer_gets_the_snapshot_first(performance):
    communicator, connected, _ = await connect(performance.pk)
    assert connected
    snapshot = await communicator.receive_json_from()
    assert snapshot["type"] == "snapshot"
    assert snapshot["performance"]["status"] == "running"
    assert [line["text"] for line in snapshot["lines"]] == [
        "The rain stopped.",
        "Hajime, you let it go.",
    ]
    assert {c["character"] for c in snapshot["cast"]} >= {"kenzaki", "hajime"}
    await communicator.disconnect()


async def test_group_frames_arrive_in_order(performance):
    communicator, _, _ = await connect(performance.pk)
    await communicator.receive_json_from()
    layer = get_channel_layer()
    group = performance_group(performance.pk)
    frames = [
        {"type": "line.start", "index": 2, "speaker": "Hajime Aikawa"},
        {"type": "line.delta", "index": 2, "text": "Two "},
        {"type": "line.delta", "index": 2, "text": "of them."},
        {
            "type": "line.end",
            "index": 2,
            "speaker": "Hajime Aikawa",
            "text": "Two of them.",
        },
        {"type": "status", "status": "paused"},
    ]
    for frame in frames:
        await layer.group_send(group, frame)
    received = [await communicator.receive_json_from() for _ in frames]
    assert received == frames
    await communicator.disconnect()


async def test_foreign_origin_is_rejected(performance):
    communicator, connected, _ = await connect(
        performance.pk, origin=b"https://evil.example"
    )
    assert not connected


async def test_unknown_performance_is_refused(performance):
    communicator, connected, code = await connect(performance.pk + 999)
    assert not connected and code == 4404


async def test_private_performance_is_hidden_from_anonymous_viewers(performance):
    await sync_to_async(Performance.objects.filter(pk=performance.pk).update)(
        is_public=False
    )
    _, connected, _ = await connect(performance.pk)
    assert not connected


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "react", "reaction": "throw tomatoes"}', "rejected"),
        ('{"type": "chat", "text": "hi"}', "rejected"),
        ('{"type": "speak", "text": "I am Blade"}', "rejected"),
    ],
)
async def test_bad_messages_get_an_error_and_the_socket_stays_usable(
    performance, payload, code
):
    communicator, _, _ = await connect(performance.pk)
    await communicator.receive_json_from()
    await communicator.send_to(text_data=payload)
    error = await communicator.receive_json_from()
    assert error["type"] == "error" and error["code"] == code
    assert error["message"] and not error.get("closing")
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_reaction_is_stored_and_counted_for_every_viewer(performance):
    first, _, _ = await connect(performance.pk)
    second, _, _ = await connect(performance.pk)
    await first.receive_json_from()
    await second.receive_json_from()
    await first.send_json_to({"type": "react", "reaction": "applause"})
    for communicator in (first, second):
        frame = await communicator.receive_json_from()
        assert frame["type"] == "audience"
        assert frame["counts"]["applause"] == 1
        assert frame["engagement"] > 0.5
    count = await sync_to_async(Reaction.objects.filter(kind="applause").count)()
    assert count == 1
    await first.disconnect()
    await second.disconnect()


async def test_oversized_frame_closes_the_socket_with_a_reason(performance):
    communicator, _, _ = await connect(performance.pk)
    await communicator.receive_json_from()
    big = json.dumps({"type": "chat", "text": "x" * (MAX_FRAME_BYTES + 10)})
    await communicator.send_to(text_data=big)
    error = await communicator.receive_json_from()
    assert error["code"] == "frame_too_large" and error["closing"] is True
    output = await communicator.receive_output()
    assert output["type"] == "websocket.close" and output["code"] == 4009
    await communicator.disconnect()  # the client hangs up; its relay ends


async def test_flooding_client_is_closed(performance):
    communicator, _, _ = await connect(performance.pk)
    await communicator.receive_json_from()
    for _ in range(FLOOD_MESSAGES):
        await communicator.send_json_to({"type": "ping"})
        await communicator.receive_json_from()
    await communicator.send_json_to({"type": "ping"})
    error = await communicator.receive_json_from()
    assert error["code"] == "flood" and error["closing"] is True
    output = await communicator.receive_output()
    assert output["type"] == "websocket.close" and output["code"] == 4008
    await communicator.disconnect()
