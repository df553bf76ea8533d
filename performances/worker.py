"""The stage worker: holds a performance's lease and drives it turn by turn."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from django.db import close_old_connections, transaction

from performances import leases, performers, services
from performances.events import send_now
from performances.models import Line, Performance
from stageplay.conf import stage_settings

log = logging.getLogger(__name__)
Status = Performance.Status


class LeaseLost(Exception):
    """Another worker took over the performance this one was driving."""


class DeltaPublisher:
    """Coalesce streamed tokens into at most one `line.delta` frame per interval."""

    def __init__(self, performance_id: int, index: int, interval: float) -> None:
        self.performance_id = performance_id
        self.index = index
        self.interval = interval
        self.pending: list[str] = []
        self.last_sent = 0.0
        self.frames = 0

    def add(self, text: str) -> None:
        """Buffer `text`, sending the buffer when the interval has passed."""
        self.pending.append(text)
        if time.monotonic() - self.last_sent >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Send whatever is buffered as one frame."""
        if not self.pending:
            return
        text, self.pending = "".join(self.pending), []
        self.last_sent = time.monotonic()
        self.frames += 1
        send_now(
            self.performance_id,
            {"type": "line.delta", "index": self.index, "text": text},
        )


@dataclass
class WorkerOptions:
    """How a stage worker behaves; defaults come from the STAGEPLAY settings."""

    lease_seconds: float  # how long a claimed lease lasts without renewal
    poll_seconds: float  # how often an idle worker looks for work
    pace_seconds: float  # pause after each line so people can read it
    human_seconds: float  # how long the stage waits for a human performer
    delta_interval: float  # shortest gap between two `line.delta` frames

    @classmethod
    def from_settings(cls, **overrides) -> WorkerOptions:
        """Return options read from settings, with `overrides` applied."""
        values = {
            "lease_seconds": stage_settings.WORKER_LEASE_SECONDS,
            "poll_seconds": stage_settings.WORKER_POLL_SECONDS,
            "pace_seconds": stage_settings.LINE_PACE_SECONDS,
            "human_seconds": stage_settings.HUMAN_TURN_SECONDS,
            "delta_interval": stage_settings.DELTA_INTERVAL_SECONDS,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class StageWorker:
    """Claim running performances and perform them until they end or are stopped."""

    def __init__(self, options: WorkerOptions | None = None, name: str = "") -> None:
        self.options = options or WorkerOptions.from_settings()
        self.name = (
            name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        )
        self.stopping = threading.Event()

    def run_forever(self) -> None:
        """Work until `stop()` is called."""
        log.info("stage worker %s ready", self.name)
        while not self.stopping.is_set():
            if not self.run_once():
                self.stopping.wait(self.options.poll_seconds)

    def stop(self) -> None:
        """Ask the worker to stop after the current line."""
        self.stopping.set()

    def run_once(self) -> bool:
        """Claim one performance and drive it; return whether there was one."""
        close_old_connections()
        performance = leases.lease_claim(
            owner=self.name, seconds=self.options.lease_seconds
        )
        if performance is None:
            return False
        log.info("worker %s drives performance %s", self.name, performance.pk)
        try:
            self.drive(performance)
        except LeaseLost:
            log.warning("worker %s lost performance %s", self.name, performance.pk)
        except Exception as exc:  # a failed turn fails the performance, visibly
            log.exception("performance %s failed", performance.pk)
            performance.refresh_from_db()
            if performance.status in (Status.RUNNING, Status.PAUSED):
                services.performance_fail(performance=performance, reason=str(exc))
        # Not in `finally`: a worker that dies keeps its lease until it expires, and
        # the next worker resumes from the last committed line.
        leases.lease_release(performance=performance, owner=self.name)
        return True

    def drive(self, performance: Performance) -> None:
        """Perform turns until the scene ends, the performance stops, or we quit."""
        from agents.director import next_speaker

        while not self.stopping.is_set():
            self._renew(performance)
            performance.refresh_from_db()
            if performance.status == Status.PAUSED:
                self.stopping.wait(self.options.poll_seconds)
                continue
            if performance.status != Status.RUNNING:
                return
            audience = self._audience(performance)
            character = next_speaker(performance=performance, audience=audience)
            if character is None:
                self._curtain(performance)
                return
            player = performers.role_player(
                performance=performance, character=character
            )
            if player is not None and self._await_human(performance, character):
                continue
            self._speak(performance, character, audience, understudy=player is not None)
            self.stopping.wait(self.options.pace_seconds)

    def _renew(self, performance: Performance) -> None:
        """Renew the lease or raise LeaseLost."""
        if not leases.lease_renew(
            performance=performance,
            owner=self.name,
            seconds=self.options.lease_seconds,
        ):
            raise LeaseLost(performance.pk)

    def _audience(self, performance: Performance):
        """Return the audience's mood for the director."""
        from agents.director import AudienceMood
        from performances.audience import audience_report

        report = audience_report(performance=performance)
        return AudienceMood(
            engagement=report.engagement,
            cheered=report.cheered,
            emotion=report.emotion,
            chat=report.chat,
        )

    def _await_human(self, performance: Performance, character) -> bool:
        """Wait for a human performer's line; True if it came before the deadline."""
        known = performance.lines.count()
        performers.turn_await(
            performance=performance,
            character=character,
            seconds=self.options.human_seconds,
        )
        deadline = time.monotonic() + self.options.human_seconds
        while time.monotonic() < deadline and not self.stopping.is_set():
            if performance.lines.count() > known:
                from agents.minds import line_digest

                line_digest(line=performance.lines.order_by("-index").first())
                return True
            performance.refresh_from_db(fields=["status"])
            if performance.status != Status.RUNNING:
                performers.turn_expire(performance=performance, character=character)
                return True
            self._renew(performance)
            self.stopping.wait(min(0.25, self.options.poll_seconds))
        return not performers.turn_expire(performance=performance, character=character)

    def _speak(self, performance, character, audience, understudy: bool) -> Line | None:
        """Generate `character`'s line while streaming it, then commit it."""
        from agents.minds import TurnCancelled, line_digest, line_generate

        index = performance.lines.count()
        cancel = threading.Event()
        publisher = DeltaPublisher(performance.pk, index, self.options.delta_interval)
        checked = [time.monotonic()]

        def on_delta(text: str) -> None:
            publisher.add(text)
            if time.monotonic() - checked[0] > 0.5:
                checked[0] = time.monotonic()
                status = (
                    Performance.objects.filter(pk=performance.pk)
                    .values_list("status", flat=True)
                    .first()
                )
                if status != Status.RUNNING or self.stopping.is_set():
                    cancel.set()
                leases.lease_renew(
                    performance=performance,
                    owner=self.name,
                    seconds=self.options.lease_seconds,
                )

        send_now(
            performance.pk,
            {
                "type": "line.start",
                "index": index,
                "speaker": character.name,
                "character": character.slug,
            },
        )
        try:
            generated = line_generate(
                performance=performance,
                character=character,
                audience=audience,
                on_delta=on_delta,
                cancel=cancel,
            )
        except TurnCancelled:
            return None
        finally:
            publisher.flush()
        with transaction.atomic():
            current = Performance.objects.select_for_update().get(pk=performance.pk)
            if current.lease_owner != self.name:
                raise LeaseLost(performance.pk)
            if current.status != Status.RUNNING:
                return None
            line = services.line_append(
                performance=current,
                character=character,
                text=generated.text,
                emotion=generated.emotion,
                direction=generated.direction,
                understudy=understudy,
                tokens=generated.tokens,
                latency_ms=generated.latency_ms,
            )
        line_digest(line=line)
        return line

    def _curtain(self, performance: Performance) -> None:
        """Finish the performance and let every character remember it."""
        from agents.memory import memories_summarise

        services.performance_finish(performance=performance)
        memories_summarise(performance=performance)


def worker_thread_start() -> StageWorker:
    """Start a stage worker in a daemon thread, for the embedded mode."""
    worker = StageWorker()
    thread = threading.Thread(
        target=worker.run_forever, name="stage-worker", daemon=True
    )
    thread.start()
    return worker
