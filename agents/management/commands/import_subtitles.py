"""`manage.py import_subtitles`: import .srt files, one scene each, all or nothing."""

from django.core.management.base import BaseCommand, CommandError

from agents.training.importers import (
    DatasetError,
    attribute_speakers,
    load_speaker_map,
    read_subtitles,
)
from agents.training.store import StoreError, scenes_import


class Command(BaseCommand):
    help = (
        "Import SubRip subtitle files as scenes (one per file). Every file is checked "
        "before anything is written; one bad file imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help=".srt files")
        parser.add_argument(
            "--speakers",
            metavar="MAPFILE",
            help="speaker map: a JSON object or 'name=slug' lines; names missing "
            "from it are errors",
        )
        parser.add_argument(
            "--encoding", help="the files' encoding (default: detected)"
        )

    def handle(self, *args, paths, speakers=None, encoding=None, **options):
        try:
            speaker_map = load_speaker_map(speakers) if speakers else None
        except DatasetError as exc:
            raise CommandError(str(exc)) from None
        scenes, errors = [], []
        for path in paths:
            try:
                scenes.append(
                    read_subtitles(path, speaker_map=speaker_map, encoding=encoding)
                )
            except DatasetError as exc:
                errors.append(str(exc))
        if errors:
            raise CommandError("\n".join(errors) + "\nNothing was imported.")
        attributed = attribute_speakers(scenes)
        try:
            result = scenes_import(scenes=scenes)
        except StoreError as exc:
            raise CommandError(f"{exc}\nNothing was imported.") from None
        for scene, slug in zip(scenes, result.slugs, strict=True):
            self.stdout.write(f"{scene.source}: scene {slug}, {len(scene.lines)} lines")
        self.stdout.write(
            f"Imported {len(scenes)} scene(s), {result.lines} lines "
            f"({len(result.replaced)} replaced); {attributed} speaker(s) guessed by "
            f"the classifier, {result.to_review} line(s) to review."
        )
