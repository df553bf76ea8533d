"""`manage.py export_dataset`: write every scene's script as a training dataset."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.training.exporters import scenes_to_character_llm, scenes_to_xtuner
from agents.training.store import dataset_from_db

EXPORTERS = {"xtuner": scenes_to_xtuner, "character-llm": scenes_to_character_llm}


class Command(BaseCommand):
    help = (
        "Export every scene's script as XTuner conversation JSONL (default) or "
        "Character-LLM prompted JSONL, to fine-tune a model with those toolkits."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", metavar="OUT", help="the .jsonl file to write")
        parser.add_argument("--format", choices=sorted(EXPORTERS), default="xtuner")

    def handle(self, *args, out, format, **options):
        scenes = dataset_from_db()
        if not scenes:
            raise CommandError(
                "No scene has a script to export: import some with import_dataset "
                "or import_subtitles first."
            )
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent}: no such directory")
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_text(EXPORTERS[format](scenes), encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"{path}: cannot write ({exc.strerror})") from None
        lines = sum(len(scene.lines) for scene in scenes)
        self.stdout.write(
            f"Wrote {len(scenes)} scene(s), {lines} lines, as {format} to {path}."
        )
