"""The shipped corpus: the scenes in agents/corpus/*.fountain, one scene per file."""

from __future__ import annotations

from pathlib import Path

from agents.training.dataset import DialogueScene

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"


def load_corpus(directory: str | Path = CORPUS_DIR) -> list[DialogueScene]:
    """Return every scene of the Fountain files in `directory`, in file-name order."""
    from agents.training.importers.fountain import read_fountain

    directory = Path(directory)
    paths = sorted(directory.glob("*.fountain"))
    if not paths:
        raise FileNotFoundError(
            f"no .fountain files in {directory}; pass the corpus folder with --corpus"
        )
    return [scene for path in paths for scene in read_fountain(path)]
