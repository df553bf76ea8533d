"""`manage.py perform <scene>`: perform a scene in this terminal, line by line."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agents.minds import SurfaceReader, backend_name, performance_turn
from performances.models import Performance, Scene
from performances.services import (
    performance_create,
    performance_fail,
    performance_finish,
    performance_start,
)
from stageplay.conf import stage_settings


class LinePrinter:
    """Print each line as `NAME [emotion] (direction): text`, the text as it streams."""

    def __init__(self, out) -> None:
        self.out = out
        self.reader = SurfaceReader()
        self.name = ""
        self.header_shown = False

    def start(self, character) -> None:
        """Begin a line by `character`."""
        self.reader = SurfaceReader()
        self.name = character.name.upper()
        self.header_shown = False

    def feed(self, piece: str) -> None:
        """Print what of the raw `piece` can be shown."""
        text = self.reader.feed(piece)
        if self.reader.head_done and not self.header_shown:
            self._header(self.reader.emotion, self.reader.direction)
        if text:
            self.out.write(text, ending="")
            self.out.flush()

    def finish(self, line) -> None:
        """End the line; say what was committed where it differs from the stream."""
        if not self.header_shown:
            self._header(line.emotion, line.direction)
            self.out.write(line.text, ending="")
        shown = " ".join(self.reader.shown.split())
        if self.reader.emotion is None:
            self.out.write(f"  [{line.emotion}]", ending="")
        self.out.write("")
        if self.header_shown and shown and shown != line.text:
            self.out.write(f"    (as committed: {line.text})")

    def _header(self, emotion: str | None, direction: str) -> None:
        """Print the speaker, emotion and stage direction that open a line."""
        parts = [self.name]
        if emotion:
            parts.append(f"[{emotion}]")
        if direction:
            parts.append(f"({direction})")
        self.out.write(" ".join(parts) + ": ", ending="")
        self.header_shown = True


class Command(BaseCommand):
    help = (
        "Perform a scene in this terminal through the director and the minds: each "
        "line is printed as it is spoken and stored like any performance."
    )

    def add_arguments(self, parser):
        parser.add_argument("scene", help="slug of the scene to perform")
        parser.add_argument(
            "--turns", type=int, help="most lines (default: the scene's turn limit)"
        )
        parser.add_argument(
            "--backend",
            default="",
            help="backend name or import string (default: STAGEPLAY['BACKEND'])",
        )
        parser.add_argument("--seed", type=int, help="random seed (default: random)")
        parser.add_argument(
            "--strategy",
            choices=Performance.Strategy.values,
            default=Performance.Strategy.NATURAL,
            help="how the director picks the next speaker (default: natural)",
        )
        parser.add_argument(
            "--detach",
            action="store_true",
            help="start the performance for the stage workers and return at once, "
            "printing its id and the viewer's URL",
        )

    def handle(self, *args, scene, turns, backend, seed, strategy, detach, **options):
        performance = self.create(scene, turns, backend, seed, strategy)
        if detach:
            performance_start(performance=performance)
            url = stage_settings.SITE_URL.rstrip("/") + performance.get_absolute_url()
            self.stdout.write(
                f"Performance {performance.pk} is on stage for the workers."
            )
            self.stdout.write(f"Watch it at {url}")
            return
        self.perform(performance)

    def create(self, slug: str, turns, backend: str, seed, strategy) -> Performance:
        """Return a new scheduled performance, or raise CommandError saying why not."""
        scene = Scene.objects.filter(slug=slug).first()
        if scene is None:
            known = ", ".join(Scene.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(
                f"No scene {slug!r}; choose one of: {known} "
                "(load them with `manage.py load_cast`)."
            )
        if turns is not None and not 1 <= turns <= 500:
            raise CommandError(f"--turns must be from 1 to 500, got {turns}.")
        if seed is not None and not 0 <= seed < 2**31:
            raise CommandError(f"--seed must be from 0 to {2**31 - 1}, got {seed}.")
        try:
            return performance_create(
                scene=scene,
                strategy=strategy,
                backend=backend.strip(),
                seed=seed,
                turn_limit=turns,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def perform(self, performance: Performance) -> None:
        """Run `performance` to its end here, printing lines; fail it on any error."""
        scene = performance.scene
        performance_start(performance=performance)
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"{scene.title} — performance #{performance.pk}")
        )
        self.stdout.write(
            f"{scene.location}{', ' + scene.time.lower() if scene.time else ''}. "
            f"{scene.synopsis} (backend {backend_name(performance)}, "
            f"seed {performance.seed}, {performance.effective_turn_limit} turns)\n"
        )
        printer = LinePrinter(self.stdout)
        count = 0
        try:
            while True:
                line = performance_turn(
                    performance=performance,
                    on_delta=printer.feed,
                    on_speaker=printer.start,
                )
                if line is None:
                    break
                printer.finish(line)
                count += 1
        except KeyboardInterrupt:
            self._fail(performance, "Interrupted from the terminal.")
        except Exception as exc:  # any failure ends the performance, with its reason
            self._fail(performance, str(exc) or type(exc).__name__)
        performance_finish(performance=performance)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nCurtain. {count} lines; performance #{performance.pk} finished."
            )
        )

    def _fail(self, performance: Performance, reason: str) -> None:
        """Mark `performance` failed with `reason` and stop with that message."""
        self.stdout.write("")
        performance_fail(performance=performance, reason=reason)
        raise CommandError(f"Performance #{performance.pk} failed: {reason}")
