"""`manage.py evaluate_model`: measure a stage model on its held-out scenes."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.training.corpus import CORPUS_DIR, load_corpus
from agents.training.evaluate import EvalConfig, evaluate_model, report_markdown
from agents.training.importers.base import DatasetError
from agents.training.presets import STAGE_MODEL_DIR


class Command(BaseCommand):
    help = (
        "Evaluate a stage model on the held-out scenes of the corpus and write "
        "report.json and report.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            metavar="DIR",
            default=str(STAGE_MODEL_DIR),
            help="model directory (default: agents/stage_model/)",
        )
        parser.add_argument(
            "--out", metavar="DIR", help="report directory (default: MODEL/evaluation)"
        )
        parser.add_argument(
            "--corpus", metavar="DIR", default=str(CORPUS_DIR), help="folder of scenes"
        )
        parser.add_argument(
            "--samples", type=int, default=EvalConfig.samples, help="lines to generate"
        )
        parser.add_argument(
            "--council-scenes",
            type=int,
            default=EvalConfig.council_scenes,
            help="held-out council scenes whose task each rider answers",
        )
        parser.add_argument(
            "--best-of",
            type=int,
            default=EvalConfig.best_of,
            help="candidates per line in the re-ranked section",
        )
        parser.add_argument("--seed", type=int, default=EvalConfig.seed)

    def handle(
        self, *args, model, out, corpus, samples, council_scenes, best_of, seed, **opts
    ):
        out = out or str(Path(model) / "evaluation")
        config = EvalConfig(
            samples=samples, council_scenes=council_scenes, best_of=best_of, seed=seed
        )
        try:
            scenes = load_corpus(corpus)
            report = evaluate_model(
                model, scenes, config, out_dir=out, log=self.stdout.write
            )
        except (FileNotFoundError, ValueError, DatasetError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report_markdown(report))
        self.stdout.write(f"Report written to {out}/report.json and report.md")
