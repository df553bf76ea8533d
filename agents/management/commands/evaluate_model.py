"""`manage.py evaluate_model`: measure a stage model on its held-out scenes."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.council import council_cue
from agents.services import CastFileError, cast_read
from agents.training.corpus import CORPUS_DIR, load_corpus
from agents.training.evaluate import (
    EvalConfig,
    evaluate_model,
    load_problems,
    report_markdown,
)
from agents.training.importers.base import DatasetError
from agents.training.presets import STAGE_MODEL_DIR
from agents.training.speaker_id import CORE_CAST
from stageplay.conf import stage_settings

PROBLEMS_FILE = Path(__file__).resolve().parents[2] / "data" / "council_problems.json"


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
            "--problems",
            metavar="FILE",
            default=str(PROBLEMS_FILE),
            help="held-out council problems (default: agents/data/council_problems.json)",
        )
        parser.add_argument(
            "--council-problems",
            type=int,
            default=EvalConfig.council_problems,
            help="how many of those problems each rider answers",
        )
        parser.add_argument(
            "--best-of",
            type=int,
            default=EvalConfig.best_of,
            help="candidates per line in the re-ranked section",
        )
        parser.add_argument("--seed", type=int, default=EvalConfig.seed)

    def handle(
        self,
        *args,
        model,
        out,
        corpus,
        samples,
        problems,
        council_problems,
        best_of,
        seed,
        **opts,
    ):
        out = out or str(Path(model) / "evaluation")
        config = EvalConfig(
            samples=samples,
            council_problems=council_problems,
            best_of=best_of,
            seed=seed,
        )
        try:
            scenes = load_corpus(corpus)
            # the council as shipped in the cast file, asked as BladeAgentSystem asks
            if council_problems < 2:
                raise ValueError(
                    f"--council-problems must be 2 or more, got {council_problems}"
                )
            cast = cast_read(path=stage_settings.CAST_FILE)
            missing = [rider for rider in CORE_CAST if rider not in cast]
            if missing:
                raise ValueError(
                    f"{stage_settings.CAST_FILE}: the council needs "
                    f"{', '.join(missing)}; restore them in the cast file"
                )
            cues = [
                council_cue(cast[rider], task)
                for task in load_problems(problems)[:council_problems]
                for rider in CORE_CAST
            ]
            report = evaluate_model(
                model,
                scenes,
                config,
                council_cues=cues,
                out_dir=out,
                log=self.stdout.write,
            )
        except (FileNotFoundError, ValueError, DatasetError, CastFileError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report_markdown(report))
        self.stdout.write(f"Report written to {out}/report.json and report.md")
