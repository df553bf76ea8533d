"""`manage.py build_reranker`: fit the best-of-N reranker beside a trained model."""

from django.core.management.base import BaseCommand, CommandError

from agents.rerank import reranker_build
from agents.training.corpus import CORPUS_DIR, load_corpus
from agents.training.importers.base import DatasetError
from agents.training.presets import STAGE_MODEL_DIR


class Command(BaseCommand):
    help = (
        "Fit the reranker that picks the best of several candidate lines (speaker "
        "classifier on the model's training split) and save it in MODEL/reranker/."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            metavar="DIR",
            default=str(STAGE_MODEL_DIR),
            help="model directory (default: agents/stage_model/)",
        )
        parser.add_argument(
            "--corpus", metavar="DIR", default=str(CORPUS_DIR), help="folder of scenes"
        )

    def handle(self, *args, model, corpus, **options):
        try:
            scenes = load_corpus(corpus)
            reranker_build(model, scenes, log=self.stdout.write)
        except (FileNotFoundError, ValueError, DatasetError) as exc:
            raise CommandError(str(exc)) from None
