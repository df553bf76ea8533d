"""`manage.py finetune`: train a LoRA adapter for a local model on role-play data."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.training.corpus import CORPUS_DIR, load_corpus
from agents.training.finetune import FinetuneConfig, finetune
from agents.training.importers.base import DatasetError
from agents.training.roleplay import read_jsonl, scene_conversations


class Command(BaseCommand):
    help = (
        "Fine-tune a LoRA adapter for a local Hugging Face causal language model on "
        "XTuner conversations: from --data, or built from the corpus for --characters."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base", required=True, metavar="DIR", help="base model")
        parser.add_argument("--out", required=True, metavar="DIR", help="adapter dir")
        parser.add_argument(
            "--characters",
            nargs="+",
            metavar="SLUG",
            help="characters to learn from the corpus (default: everyone who speaks)",
        )
        parser.add_argument(
            "--data", metavar="JSONL", help="XTuner conversations to train on instead"
        )
        parser.add_argument(
            "--corpus", metavar="DIR", default=str(CORPUS_DIR), help="folder of scenes"
        )
        parser.add_argument("--epochs", type=int, default=1)
        parser.add_argument("--max-steps", type=int, default=0, help="0: all epochs")
        parser.add_argument("--rank", type=int, default=8, help="LoRA rank")
        parser.add_argument("--learning-rate", type=float, default=2e-4)
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar"
        )

    def handle(self, *args, base, out, characters, data, corpus, **options):
        if data and characters:
            raise CommandError(
                "--characters picks lines from the corpus; with --data, filter the "
                "JSONL file itself"
            )
        try:
            if data:
                records = read_jsonl(data)
                source = data
            else:
                scenes = load_corpus(corpus)
                records = scene_conversations(scenes, characters)
                source = f"{len(scenes)} scenes in {corpus}"
        except (OSError, ValueError, DatasetError) as exc:
            raise CommandError(str(exc)) from None
        if not records:
            raise CommandError(
                f"no lines by {', '.join(characters or [])} in {source}; check "
                "the slugs (lower-case cue names such as kenzaki)"
            )
        config = FinetuneConfig(
            rank=options["rank"],
            alpha=2 * options["rank"],
            epochs=options["epochs"],
            max_steps=options["max_steps"],
            learning_rate=options["learning_rate"],
            characters=list(characters or []),
        )
        self.stdout.write(f"{len(records)} conversations from {source}")
        try:
            result = finetune(
                Path(base),
                Path(out),
                records,
                config,
                progress=not options["no_progress"],
                log=self.stdout.write,
            )
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Trained {result.trainable_parameters:,} adapter parameters for "
            f"{result.steps} steps in {result.seconds:.0f}s (loss "
            f"{result.first_loss:.3f} -> {result.last_loss:.3f}). Adapter in {out}"
        )
