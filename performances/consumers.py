"""The websocket of a performance: snapshot on connect, then live frames both ways."""

from __future__ import annotations

import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError

from performances import audience, performers
from performances.fanout import FRAME, VIEWERS_LAYER, viewer_join, viewer_leave
from performances.models import Performance
from performances.selectors import performance_snapshot

MAX_FRAME_BYTES = 4096
FLOOD_MESSAGES = 20  # at most this many client messages ...
FLOOD_SECONDS = 10.0  # ... in this many seconds
CLOSE_POLICY = 4008
CLOSE_TOO_BIG = 4009
CLOSE_NOT_FOUND = 4404


def _message_of(exc: Exception) -> str:
    """Return the human message of a validation or permission error."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


class PerformanceConsumer(AsyncJsonWebsocketConsumer):
    """Stream one performance to a viewer and take their reactions, chat and lines.

    Frames come through this process's relay of the performance (`fanout`), on the
    in-process viewers layer.
    """

    channel_layer_alias = VIEWERS_LAYER

    async def connect(self) -> None:
        self.performance_id = int(self.scope["url_route"]["kwargs"]["pk"])
        self.user = self.scope.get("user")
        self.sent_times: list[float] = []
        # Join before reading the snapshot, so a line committed in between arrives
        # as a frame too (the viewer replaces a line it already has).
        await viewer_join(self.performance_id, self.channel_name)
        self.joined = True
        snapshot = await self._snapshot()
        if snapshot is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.accept()
        await self.send_json(snapshot)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "joined", False):
            self.joined = False
            await viewer_leave(self.performance_id, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """Check size and rate before decoding; close abusive clients with a reason."""
        size = len(text_data.encode()) if text_data else len(bytes_data or b"")
        if size > MAX_FRAME_BYTES:
            await self._close_with(
                "frame_too_large",
                CLOSE_TOO_BIG,
                f"Frames are limited to {MAX_FRAME_BYTES} bytes.",
            )
            return
        now = time.monotonic()
        self.sent_times = [t for t in self.sent_times if now - t < FLOOD_SECONDS]
        self.sent_times.append(now)
        if len(self.sent_times) > FLOOD_MESSAGES:
            await self._close_with(
                "flood",
                CLOSE_POLICY,
                f"More than {FLOOD_MESSAGES} messages in {FLOOD_SECONDS:.0f} seconds.",
            )
            return
        if text_data is None:
            await self._error("bad_frame", "Send JSON text frames.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_json", "The frame is not valid JSON.")
            return
        if not isinstance(content, dict):
            await self._error("bad_message", "Send a JSON object with a type.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict, **kwargs) -> None:
        handlers = {
            "react": self._react,
            "chat": self._chat,
            "speak": self._speak,
            "ping": self._ping,
        }
        handler = handlers.get(content.get("type"))
        if handler is None:
            await self._error(
                "unknown_type",
                f"Unknown message type {str(content.get('type'))[:40]!r}; "
                f"send one of: {', '.join(handlers)}.",
            )
            return
        try:
            await handler(content)
        except (ValidationError, PermissionDenied) as exc:
            await self._error("rejected", _message_of(exc))

    # Client messages -----------------------------------------------------------

    async def _react(self, content: dict) -> None:
        await database_sync_to_async(self._do_react)(content.get("reaction"))

    async def _chat(self, content: dict) -> None:
        await database_sync_to_async(self._do_chat)(content.get("text"))

    async def _speak(self, content: dict) -> None:
        await database_sync_to_async(self._do_speak)(content.get("text"))

    async def _ping(self, content: dict) -> None:
        await self.send_json({"type": "pong"})

    def _performance(self) -> Performance:
        return Performance.objects.select_related("scene").get(pk=self.performance_id)

    def _do_react(self, kind) -> None:
        audience.reaction_add(
            performance=self._performance(), kind=kind, user=self.user
        )

    def _do_chat(self, text) -> None:
        audience.chat_post(performance=self._performance(), user=self.user, text=text)

    def _do_speak(self, text) -> None:
        if not getattr(self.user, "is_authenticated", False):
            raise PermissionDenied("Sign in and claim a role to speak.")
        performers.human_line_speak(
            performance=self._performance(), user=self.user, text=text
        )

    @database_sync_to_async
    def _snapshot(self) -> dict | None:
        return performance_snapshot(performance_id=self.performance_id, user=self.user)

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _close_with(self, code: str, close_code: int, message: str) -> None:
        await self.send_json(
            {"type": "error", "code": code, "message": message, "closing": True}
        )
        await self.close(code=close_code)

    # Frames of the performance, relayed by this process ---------------------------

    async def dispatch(self, message: dict) -> None:
        """Send relayed frames as they are; hand everything else to Channels.

        Channels closes stale database connections before every handler (a thread
        hop); a relayed frame touches no database, and at a thousand viewers those
        hops were most of a frame's cost.
        """
        if message.get("type") == FRAME:
            await self.send(text_data=message["text"])
            return
        await super().dispatch(message)
