"""Line metrics through the stage's own decoding, without and with best-of-N re-ranking.

Lines are drawn by the embedded backend (the prompt-book grammar, nucleus sampling)
and kept by `agents.rerank.pick_best`, as minds do on stage. Speaker-ID is measured
by the evaluation's classifier (`speaker_id.SpeakerClassifier`), which nothing in
generation uses; the reranker has its own (see `agents.rerank`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from agents.backends.base import BaseBackend, GenerationRequest
from agents.promptbook import Cue, parse_line, render_header, render_line
from agents.rerank import META_FILE, RERANKER_DIR, Reranker, context_of, pick_best
from agents.training.dataset import DialogueScene
from agents.training.metrics import copies, distinct_n
from agents.training.similarity import follows, on_topic, without_task_words
from agents.training.speaker_id import CORE_CAST, SpeakerClassifier

PROMPT_MARGIN = 8  # tokens kept free when fitting a cue, for the speaker token


@dataclass
class Drawn:
    """One line as the stage would show it, with its timing."""

    raw: str  # the backend's surface text, `[emotion] text`
    text: str  # the spoken text
    valid: bool  # an emotion and some text, no stray special token
    ended: bool  # the line ended by itself, not at the token limit
    first_token_ms: float  # until its first piece could be shown
    latency_ms: float  # until the whole line was there


def reranker_for_report(
    model_dir: Path, train: list[DialogueScene], embed: Callable
) -> tuple[Reranker, str]:
    """Return the model's saved reranker, or one fitted on `train`, and which it is."""
    directory = model_dir / RERANKER_DIR
    if (directory / META_FILE).is_file():
        return Reranker.load(directory, embed=embed), "saved with the model"
    return Reranker(embed=embed).fit(train), "fitted on the training split"


def line_before(cue: Cue) -> str:
    """Return the text of the last line of `cue`'s transcript: what a line answers."""
    return cue.lines[-1].text if cue.lines else cue.heading


def fit_cue(backend: BaseBackend, cue: Cue, max_new_tokens: int) -> Cue:
    """Return `cue` without its oldest lines, so its prompt leaves room to answer."""
    room = backend.context_length - max_new_tokens - PROMPT_MARGIN
    room -= backend.count_tokens(render_header(cue.heading, cue.task))
    kept: list = []
    for line in reversed(cue.lines):
        room -= backend.count_tokens(render_line(line) + "\n")
        if room < 0:
            break
        kept.insert(0, line)
    return replace(cue, lines=kept)


def _drawn(raw: str, finish_reason: str, first_ms: float, latency_ms: float) -> Drawn:
    """Return a Drawn line parsed from the backend's `raw` output."""
    line = parse_line(raw)
    valid = line.emotion is not None and bool(line.text) and "<|" not in line.text
    return Drawn(raw, line.text, valid, finish_reason == "stop", first_ms, latency_ms)


def draw_line(
    backend: BaseBackend,
    reranker: Reranker,
    request: GenerationRequest,
    count: int,
) -> Drawn:
    """Return the line the stage would show: one candidate, or the best of `count`."""
    if count <= 1:
        generation = backend.generate_batch([request])[0]
        first = generation.first_token_ms or generation.latency_ms
        return _drawn(
            generation.text, generation.finish_reason, first, generation.latency_ms
        )
    pick = pick_best(
        backend,
        request,
        count=count,
        reranker=reranker,
        speaker=request.cue.speaker,
        context=context_of(request.cue),
        text_of=lambda raw: parse_line(raw).text,
    )
    chosen = pick.chosen or pick.generations[0]
    waited = pick.seconds * 1000  # the kept line streams only once all are scored
    return _drawn(chosen.text, chosen.finish_reason, waited, waited)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def compare_reranking(
    backend: BaseBackend,
    reranker: Reranker,
    cues: list[Cue],
    council_cues: list[Cue],
    tasks: list[str],
    *,
    best_of: int,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    seed: int,
    classifier: SpeakerClassifier | None,
    encoder,
    copied: set,
) -> dict:
    """Return the generated-line metrics without (N=1) and with best-of-`best_of`.

    Both sections sample with the same seeds (the single line's seed is the first
    candidate's), and each section's timings include all it did.
    """

    def request(cue: Cue, k: int) -> GenerationRequest:
        return GenerationRequest(
            cue=fit_cue(backend, cue, max_new_tokens),
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=(seed * 100_003 + k) % 2**32,
        )

    before = [line_before(cue) for cue in cues]  # what each line answers
    sections = {}
    for name, count in (("without_reranking", 1), ("with_reranking", best_of)):
        lines = [
            draw_line(backend, reranker, request(cue, k), count)
            for k, cue in enumerate(cues)
        ]
        answers = [
            draw_line(backend, reranker, request(cue, 1_000_000 + k), count)
            for k, cue in enumerate(council_cues)
        ]
        texts = [line.text for line in lines]
        core = [i for i, cue in enumerate(cues) if cue.speaker in CORE_CAST]
        speaker_id = None
        if classifier is not None and core:
            speaker_id = classifier.accuracy(
                [texts[i] for i in core], [cues[i].speaker for i in core]
            )
        on_task = beyond = None
        if answers and len(tasks) >= 2:
            own = [tasks.index(cue.task) for cue in council_cues]
            verdicts = on_topic(encoder, [a.text for a in answers], own, tasks)
            on_task = sum(verdicts) / len(verdicts)
            stripped = [
                without_task_words(a.text, cue.task)
                for a, cue in zip(answers, council_cues, strict=True)
            ]
            verdicts = on_topic(encoder, stripped, own, tasks)
            beyond = sum(verdicts) / len(verdicts)
        everything = lines + answers
        sections[name] = {
            "best_of": count,
            "format_valid": _mean([float(line.valid) for line in lines]),
            "ended": _mean([float(line.ended) for line in lines]),
            "speaker_id": speaker_id,
            "copied_8gram_share": _mean([float(copies(t, copied)) for t in texts]),
            "distinct_1": distinct_n(texts, 1),
            "distinct_2": distinct_n(texts, 2),
            "follows_line_before": follows(encoder, texts, before),
            "council_on_topic": on_task,
            "council_on_topic_without_task_words": beyond,
            "first_token_ms": _median([d.first_token_ms for d in everything]),
            "latency_ms": _median([d.latency_ms for d in everything]),
            "examples": [
                {"speaker": cue.speaker, "generated": line.raw}
                for cue, line in list(zip(cues, lines, strict=True))[:4]
            ],
        }
    return {
        "samples": len(cues),
        "speaker_id_lines": sum(cue.speaker in CORE_CAST for cue in cues),
        "council_answers": len(council_cues),
        **sections,
    }
