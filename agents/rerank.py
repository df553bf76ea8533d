"""Best-of-N re-ranking: draw several candidate lines, keep the one that fits best.

A `Reranker` scores each candidate for the speaker and the context:

    total = SPEAKER_WEIGHT * P(speaker | candidate)       (own speaker classifier)
          + CONTEXT_WEIGHT * cos(candidate, context)       (all-MiniLM-L6-v2)
          - ECHO_PENALTY   * [repeats ECHO_WORDS+ consecutive words of the context]
          - SHORT_PENALTY  * [fewer than SHORT_WORDS words]

The context is the council's task, or else the last few lines of the transcript.
The speaker classifier here is deliberately not the one the evaluation measures
speaker-ID with (`agents.training.speaker_id.SpeakerClassifier`): that one reads
word unigrams and bigrams and knows only the four riders; this one reads character
2-5-grams within word boundaries, knows every speaker of the corpus (the narrator
included) and is fitted and saved on its own, beside the model, in `reranker/`.
Both learn from the training split only, so neither has seen the held-out lines.

No Django here: minds, the council and the evaluation all call `pick_best`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from agents.backends.base import BaseBackend, Generation, GenerationRequest
from agents.promptbook import Cue
from agents.training.dataset import DialogueScene
from agents.training.metrics import echoes, words

logger = logging.getLogger(__name__)

RERANKER_DIR = "reranker"  # the reranker's folder inside a model directory
META_FILE = "reranker.json"  # what it was fitted on, and its weights
CLASSIFIER_FILE = "speaker_classifier.joblib"  # the fitted scikit-learn pipeline

SPEAKER_WEIGHT = 1.0  # times P(speaker | candidate), 0..1
CONTEXT_WEIGHT = 2.0  # times the cosine similarity to the context, about 0..0.8
ECHO_PENALTY = 2.0  # taken off a candidate that echoes the context: it always loses
ECHO_WORDS = 6  # consecutive words of the context that make an echo
SHORT_PENALTY = 0.25  # taken off a line of fewer than SHORT_WORDS words
SHORT_WORDS = 4
CONTEXT_LINES = 3  # transcript lines that make the context of a scene line
MAX_FEATURES = 20_000  # character n-grams the speaker classifier keeps
MIN_SPEAKER_LINES = 5  # speakers with fewer lines in the training split are left out
SEED_STRIDE = 15_485_863  # a prime: candidate k samples with seed + k * SEED_STRIDE

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> (N, D) vectors


@dataclass
class Weights:
    """How the parts of a candidate's score are combined (saved with the reranker)."""

    speaker: float = SPEAKER_WEIGHT
    context: float = CONTEXT_WEIGHT
    echo: float = ECHO_PENALTY
    short: float = SHORT_PENALTY
    echo_words: int = ECHO_WORDS
    short_words: int = SHORT_WORDS


@dataclass
class Score:
    """One candidate's score and its parts."""

    speaker: float  # P(speaker | text) from the reranker's own classifier
    context: float  # cosine similarity to the context (0 when there is none)
    echo: bool  # repeats `echo_words` or more consecutive words of the context
    short: bool  # fewer than `short_words` words
    total: float


@dataclass
class Pick:
    """The candidates drawn for one line, their scores and the one kept."""

    index: int  # the kept candidate; -1 when none had spoken text
    generations: list[Generation]
    texts: list[str]  # each candidate's spoken text, as parsed
    scores: list[Score | None] = field(default_factory=list)  # None: no text
    seconds: float = 0.0  # drawing and scoring all candidates

    @property
    def chosen(self) -> Generation | None:
        """Return the kept generation, or None when no candidate said anything."""
        return self.generations[self.index] if self.index >= 0 else None


# The sentence model, loaded once per process on first use

_sentence_lock = threading.Lock()
_sentence_model = None


def sentence_embed(texts: Sequence[str]) -> np.ndarray:
    """Return unit-length all-MiniLM-L6-v2 embeddings (N, 384) of `texts`."""
    global _sentence_model
    with _sentence_lock:
        if _sentence_model is None:
            from agents.training.similarity import load_sentence_model

            _sentence_model = load_sentence_model()
    return _sentence_model.encode(
        list(texts), normalize_embeddings=True, show_progress_bar=False
    )


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Return `vectors` (N, D) scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Reranker:
    """Score candidate lines for a speaker and a context; see the module docstring.

    `embed` turns texts into vectors (default: all-MiniLM-L6-v2, loaded on first
    use); tests pass a cheap one.
    """

    def __init__(self, weights: Weights | None = None, embed: Embed | None = None):
        self.weights = weights or Weights()
        self.embed = embed
        self.pipeline = None  # the fitted speaker classifier
        self.meta: dict = {}

    @property
    def speakers(self) -> list[str]:
        """Return the speakers the classifier knows (empty before fitting)."""
        return [] if self.pipeline is None else [str(s) for s in self.pipeline.classes_]

    def fit(self, scenes: Iterable[DialogueScene]) -> Reranker:
        """Fit the speaker classifier on the lines of `scenes` (the training split)."""
        from collections import Counter

        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        scenes = list(scenes)
        lines = [line for s in scenes for line in s.lines if line.text.strip()]
        counts = Counter(line.speaker for line in lines)
        kept = [line for line in lines if counts[line.speaker] >= MIN_SPEAKER_LINES]
        speakers = sorted({line.speaker for line in kept})
        if len(speakers) < 2:
            raise ValueError(
                f"the reranker needs at least two speakers with {MIN_SPEAKER_LINES} "
                f"or more lines; these scenes have {dict(counts) or 'no lines'}. "
                "Fit it on the training scenes of the corpus."
            )
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=2,
            max_features=MAX_FEATURES,
        )
        pipeline = make_pipeline(vectorizer, LogisticRegression(max_iter=1000, C=2.0))
        pipeline.fit([line.text for line in kept], [line.speaker for line in kept])
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_  # only for introspection, and large
        self.pipeline = pipeline
        self.meta = {
            "classifier": "char_wb 2-5-gram TF-IDF + logistic regression",
            "sentence_model": "all-MiniLM-L6-v2",
            "speakers": speakers,
            "lines": len(kept),
            "scenes": len(scenes),
            "titles": sorted(s.title for s in scenes),
        }
        return self

    def save(self, directory: str | Path) -> Path:
        """Write the classifier and reranker.json into `directory`; return it."""
        import joblib
        import sklearn

        if self.pipeline is None:
            raise ValueError("fit the reranker before saving it")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, directory / CLASSIFIER_FILE, compress=3)
        meta = {
            **self.meta,
            "weights": asdict(self.weights),
            "sklearn": sklearn.__version__,
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, embed: Embed | None = None) -> Reranker:
        """Return the reranker saved in `directory` (a trusted model directory)."""
        import joblib

        directory = Path(directory)
        if not (directory / META_FILE).is_file():
            raise FileNotFoundError(
                f"no reranker in {directory} ({META_FILE} missing); build one with "
                "`python manage.py build_reranker --model MODEL_DIR`"
            )
        meta = json.loads((directory / META_FILE).read_text())
        reranker = cls(Weights(**meta.get("weights", {})), embed=embed)
        reranker.pipeline = joblib.load(directory / CLASSIFIER_FILE)
        reranker.meta = meta
        return reranker

    def speaker_fit(self, texts: Sequence[str], speaker: str) -> np.ndarray:
        """Return P(speaker | text) per text (0 for a speaker the classifier lacks)."""
        if self.pipeline is None or speaker not in self.speakers or not texts:
            return np.zeros(len(texts))
        column = self.speakers.index(speaker)
        return self.pipeline.predict_proba(list(texts))[:, column]  # (N,)

    def context_fit(self, texts: Sequence[str], context: str) -> np.ndarray:
        """Return the cosine similarity of each text to `context` (0 without one)."""
        if not context.strip() or not texts:
            return np.zeros(len(texts))
        vectors = _unit((self.embed or sentence_embed)([*texts, context]))  # (N+1, D)
        return vectors[:-1] @ vectors[-1]  # (N,)

    def score(self, texts: Sequence[str], *, speaker: str, context: str) -> list[Score]:
        """Return the score of each candidate text as `speaker`'s line in `context`."""
        w = self.weights
        speaker_fit = self.speaker_fit(texts, speaker)
        context_fit = self.context_fit(texts, context)
        scores = []
        for text, p, cosine in zip(texts, speaker_fit, context_fit, strict=True):
            echo = bool(context) and echoes(text, context, w.echo_words)
            short = len(words(text)) < w.short_words
            total = w.speaker * p + w.context * cosine - w.echo * echo - w.short * short
            scores.append(Score(float(p), float(cosine), echo, short, float(total)))
        return scores

    def best(self, texts: Sequence[str], *, speaker: str, context: str) -> int:
        """Return the index of the best-scoring text (the first on a tie)."""
        scores = self.score(texts, speaker=speaker, context=context)
        return max(range(len(texts)), key=lambda i: (scores[i].total, -i))


# Drawing candidates


def context_of(cue: Cue | None, lines: int = CONTEXT_LINES) -> str:
    """Return what a line should answer: the task, else the last transcript lines."""
    if cue is None:
        return ""
    if cue.task.strip():
        return cue.task.strip()
    recent = " ".join(line.text for line in cue.lines[-lines:] if line.text.strip())
    return recent or cue.heading


def candidate_seeds(seed: int | None, count: int) -> list[int | None]:
    """Return a seed per candidate; the first is `seed`, as a single draw would use."""
    if seed is None:
        return [None] * count
    return [(seed + k * SEED_STRIDE) % 2**32 for k in range(count)]


def pick_best(
    backend: BaseBackend,
    request: GenerationRequest,
    *,
    count: int,
    reranker: Reranker,
    speaker: str,
    context: str,
    text_of: Callable[[str], str],
    cancel: threading.Event | None = None,
) -> Pick:
    """Draw `count` candidates for `request` in one batch and keep the best.

    `text_of` turns a raw generation into its spoken text; candidates without text
    are never kept. A set `cancel` stops the batch; the pick then has index -1.
    """
    started = time.perf_counter()
    requests = [replace(request, seed=s) for s in candidate_seeds(request.seed, count)]
    generations = backend.generate_batch(requests, cancel=cancel)
    texts = [text_of(g.text) for g in generations]
    scores: list[Score | None] = [None] * len(texts)
    index = -1
    spoken = [i for i, text in enumerate(texts) if text]
    if spoken and not (cancel is not None and cancel.is_set()):
        scored = reranker.score(
            [texts[i] for i in spoken], speaker=speaker, context=context
        )
        for i, score in zip(spoken, scored, strict=True):
            scores[i] = score
        index = max(spoken, key=lambda i: (scores[i].total, -i))
    return Pick(index, generations, texts, scores, time.perf_counter() - started)


def pieces_of(text: str) -> list[str]:
    """Return `text` cut into word-sized pieces, to stream a finished line."""
    return re.findall(r"\S+\s*|\s+", text)


# Finding and building the reranker of a model

_loaded: dict[Path, Reranker] = {}
_loaded_lock = threading.Lock()


def reranker_for(backend: BaseBackend) -> Reranker | None:
    """Return the reranker saved beside `backend`'s model, or None when there is none.

    A reranker that cannot be loaded is logged and treated as absent, so the stage
    falls back to one candidate per line.
    """
    path = getattr(backend, "path", None)
    if path is None:
        return None
    directory = Path(path) / RERANKER_DIR
    with _loaded_lock:
        if directory in _loaded:
            return _loaded[directory]
        if not (directory / META_FILE).is_file():
            return None
        try:
            _loaded[directory] = Reranker.load(directory)
        except Exception as exc:  # a broken file must not stop the stage
            logger.warning("Ignoring the reranker in %s: %s", directory, exc)
            return None
        return _loaded[directory]


def reranker_cache_clear() -> None:
    """Forget every loaded reranker (tests, or after rebuilding one on disk)."""
    with _loaded_lock:
        _loaded.clear()


def reranker_build(
    model_dir: str | Path,
    scenes: list[DialogueScene],
    log: Callable[[str], None] = print,
) -> Path:
    """Fit a reranker on the training split of the model at `model_dir`; save it there.

    The split is the one recorded in the model's training.json, so the reranker
    never sees the held-out scenes the evaluation measures on.
    """
    from agents.training.evaluate import EvalConfig, heldout_split

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"no model in {model_dir} (config.json missing); train one with "
            "`manage.py train_model` or pass --model"
        )
    train, held = heldout_split(model_dir, scenes, EvalConfig())
    started = time.perf_counter()
    reranker = Reranker().fit(train)
    directory = reranker.save(model_dir / RERANKER_DIR)
    log(
        f"Reranker fitted on {reranker.meta['lines']} lines of {len(train)} training "
        f"scenes ({len(held)} held out), {len(reranker.speakers)} speakers, in "
        f"{time.perf_counter() - started:.1f}s; saved in {directory}"
    )
    return directory
