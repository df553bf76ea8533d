"""`manage.py train_model`: train the stage model from a named preset."""

from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.rerank import reranker_build
from agents.training.corpus import CORPUS_DIR, load_corpus
from agents.training.importers.base import DatasetError
from agents.training.presets import PRESETS, get_preset
from agents.training.train import TrainingError, train


class Command(BaseCommand):
    help = (
        "Train the stage model from scratch on the Fountain corpus, with a preset: "
        + "; ".join(f"{p.name}: {p.about}" for p in PRESETS.values())
        + "."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--preset", default="blade", choices=list(PRESETS), help="default: blade"
        )
        parser.add_argument(
            "--out", metavar="DIR", help="model directory (blade: agents/stage_model/)"
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help="continue the run whose checkpoint is in the model directory",
        )
        parser.add_argument(
            "--time-limit",
            metavar="MINUTES",
            type=float,
            help="stop after this much training, resumably (0: no limit; default: "
            "the preset's); a run that its limit stopped resumes with a larger one",
        )
        parser.add_argument(
            "--corpus",
            metavar="DIR",
            default=str(CORPUS_DIR),
            help="folder of .fountain scenes (default: agents/corpus/)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar"
        )

    def handle(
        self, *args, preset, out, resume, time_limit, corpus, no_progress, **options
    ):
        chosen = get_preset(preset)
        out = out or chosen.out_dir
        config = chosen.config
        if time_limit is not None:
            if time_limit < 0:
                raise CommandError(
                    f"--time-limit is in minutes, 0 for no limit; got {time_limit}"
                )
            config = replace(config, time_limit_s=time_limit * 60)
        if out is None:
            raise CommandError(
                f"the {preset} preset has no default output; give --out DIR"
            )
        try:
            scenes = load_corpus(corpus)
        except (FileNotFoundError, DatasetError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{len(scenes)} scenes from {corpus}; preset {preset} -> {out}"
        )
        try:
            result = train(
                config,
                scenes,
                Path(out),
                resume=resume,
                progress=not no_progress,
                log=self.stdout.write,
            )
        except TrainingError as exc:
            raise CommandError(str(exc)) from None
        state = (
            "finished"
            if result.finished
            else "stopped at its time limit (finish it with --resume and a larger "
            "--time-limit)"
        )
        shipped = (
            f"the average of steps {', '.join(map(str, result.averaged_steps))}"
            if result.averaged_steps
            else f"step {result.best_step}"
        )
        self.stdout.write(
            f"Trained {result.parameters:,} parameters for {result.steps} steps in "
            f"{result.seconds / 60:.1f} min, {state}; best held-out loss "
            f"{result.best_val_loss:.4f}, from {shipped}. Model in {out}"
        )
        try:  # the best-of-N reranker, fitted on the same training split
            reranker_build(out, scenes, log=self.stdout.write)
        except ValueError as exc:
            self.stderr.write(f"No reranker: {exc}")
