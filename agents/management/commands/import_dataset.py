"""`manage.py import_dataset`: import dialogue datasets and character cards."""

from django.core.management.base import BaseCommand, CommandError

from agents.training.importers import (
    FORMATS,
    DatasetError,
    load_speaker_map,
    read_dataset,
)
from agents.training.store import StoreError, dataset_import


class Command(BaseCommand):
    help = (
        "Import dataset files (XTuner or Character-LLM JSONL, ChatHaruhi lines, "
        "Fountain, Character Card V2). Every file is checked before anything is "
        "written; one bad file imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--format", choices=FORMATS, help="the files' format (default: detected)"
        )
        parser.add_argument(
            "--speakers",
            metavar="MAPFILE",
            help="speaker map: a JSON object or 'name=slug' lines",
        )
        parser.add_argument(
            "--encoding", help="the files' encoding (default: detected)"
        )

    def handle(self, *args, paths, format=None, speakers=None, encoding=None, **opts):
        try:
            speaker_map = load_speaker_map(speakers) if speakers else None
        except DatasetError as exc:
            raise CommandError(str(exc)) from None
        scenes, cards, errors, read = [], [], [], []
        for path in paths:
            try:
                dataset = read_dataset(
                    path, format, speaker_map=speaker_map, encoding=encoding
                )
            except DatasetError as exc:
                errors.append(str(exc))
                continue
            scenes += dataset.scenes
            cards += [(path, profile) for profile in dataset.profiles]
            read.append(
                f"{path}: {dataset.format}, {len(dataset.scenes)} scene(s), "
                f"{len(dataset.profiles)} card(s)"
            )
        if errors:
            raise CommandError("\n".join(errors) + "\nNothing was imported.")
        try:
            result = dataset_import(scenes=scenes, cards=cards)
        except StoreError as exc:
            raise CommandError(f"{exc}\nNothing was imported.") from None
        for line in read:
            self.stdout.write(line)
        self.stdout.write(
            f"Imported {len(result.scenes) + len(result.replaced)} scene(s) "
            f"({len(result.replaced)} replaced), {result.lines} lines; characters "
            f"created: {', '.join(result.characters_created) or 'none'}, updated: "
            f"{', '.join(result.characters_updated) or 'none'}."
        )
