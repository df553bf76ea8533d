"""`manage.py load_cast`: load the cast and its scenes from the data file."""

from django.core.management.base import BaseCommand, CommandError

from agents.services import CastFileError, cast_load
from stageplay.conf import stage_settings


class Command(BaseCommand):
    help = "Load the cast and scenes from a JSON data file (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="cast file (default: settings)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="overwrite characters and scenes edited since they were loaded",
        )

    def handle(self, *args, path=None, force=False, **options):
        try:
            result = cast_load(path=path or stage_settings.CAST_FILE, force=force)
        except CastFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Cast loaded: {len(result.created)} created, {len(result.updated)} "
            f"updated, {len(result.unchanged)} unchanged"
            + ("" if force or not result.unchanged else " (use --force to overwrite)")
        )
