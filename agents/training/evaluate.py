"""Evaluate a stage model on held-out scenes: a JSON and a Markdown report."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from agents.promptbook import NARRATOR, Cue
from agents.training.dataset import DialogueScene
from agents.training.generation import Generation, generate_line
from agents.training.losses import heldout_loss
from agents.training.metrics import bleu, copies, distinct_n, ngram_index, rouge_l
from agents.training.model import quiet_progress
from agents.training.ngram import KneserNeyTrigram
from agents.training.similarity import load_sentence_model, on_topic
from agents.training.speaker_id import CORE_CAST, SpeakerClassifier
from agents.training.splits import split_scenes
from agents.training.tokenizer import load_tokenizer
from agents.training.windows import scene_windows


@dataclass
class EvalConfig:
    """How much to generate and how to sample; the defaults suit the shipped model."""

    samples: int = 60  # next lines generated from held-out cues, for the line metrics
    council_scenes: int = 6  # held-out council scenes whose task each rider answers
    max_new_tokens: int = 80  # the longest generated line, in tokens
    temperature: float = 0.8  # sampling temperature
    top_k: int = 50  # sample among the k likeliest tokens
    seed: int = 0  # seeds the cue draw, the sampling and the random-line baseline
    holdout: float = (
        0.1  # held-out share, used only when the model has no training.json
    )
    split_seed: int = 1337  # split seed, likewise


def heldout_split(
    model_dir: Path, scenes: list[DialogueScene], config: EvalConfig
) -> tuple[list[DialogueScene], list[DialogueScene]]:
    """Return the (train, held-out) scenes the model at `model_dir` was trained with.

    The split is taken from the titles in training.json; without it, or when the corpus
    no longer has those scenes, it is redrawn by title hash with the recorded seed.
    """
    record_path = model_dir / "training.json"
    holdout, seed = config.holdout, config.split_seed
    if record_path.exists():
        record = json.loads(record_path.read_text())
        held_titles = set(record.get("heldout_titles", []))
        train_titles = set(record.get("train_titles", []))
        held = [scene for scene in scenes if scene.title in held_titles]
        train = [scene for scene in scenes if scene.title in train_titles]
        if held and train:
            return train, held
        holdout = record["config"].get("holdout", holdout)
        seed = record["config"].get("seed", seed)
    return split_scenes(scenes, holdout, seed)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


def _next_line_cues(
    held: list[DialogueScene], count: int, rng: random.Random
) -> list[tuple[Cue, str]]:
    """Draw `count` (cue, real line) pairs: a held-out line and what came before."""
    candidates = [
        (scene, i)
        for scene in held
        for i, line in enumerate(scene.lines)
        if i > 0 and line.speaker != NARRATOR and line.text
    ]
    rng.shuffle(candidates)
    return [
        (Cue(s.lines[i].speaker, s.heading, s.task, s.lines[:i]), s.lines[i].text)
        for s, i in candidates[:count]
    ]


def _council_cues(held: list[DialogueScene], count: int) -> list[Cue]:
    """Return a cue per rider for each held-out council scene, after its setup."""
    cues = []
    councils = sorted(
        (s for s in held if s.kind == "council" and s.task), key=lambda s: s.title
    )
    for scene in councils[:count]:
        first = next(
            (i for i, line in enumerate(scene.lines) if line.speaker in CORE_CAST),
            len(scene.lines),
        )
        for rider in CORE_CAST:
            cues.append(Cue(rider, scene.heading, scene.task, scene.lines[:first]))
    return cues


def evaluate_model(
    model_dir: str | Path,
    scenes: list[DialogueScene],
    config: EvalConfig | None = None,
    *,
    out_dir: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Measure the model at `model_dir` on its held-out scenes; write report.json/.md.

    The report covers perplexity beside a Kneser-Ney trigram baseline, the format of
    generated lines, who they sound like, overlap with the real next line, diversity,
    copying from the training scenes, speed, and whether council answers stay on topic.
    """
    config = config or EvalConfig()
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(
            f"no model in {model_dir} (config.json missing); train one with "
            "`manage.py train_model` or pass --model"
        )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = load_tokenizer(model_dir)
    with quiet_progress():
        model = AutoModelForCausalLM.from_pretrained(
            str(model_dir), local_files_only=True
        )
    model.to(device).eval()
    train, held = heldout_split(model_dir, scenes, config)
    if not held:
        raise ValueError(
            "no held-out scenes to evaluate on; give the corpus more scenes"
        )
    rng = random.Random(config.seed)
    log(
        f"evaluating {model_dir} on {len(held)} held-out scenes "
        f"({len(train)} trained on)"
    )

    # perplexity of the model and of the trigram baseline, over the same target tokens
    block = model.config.max_position_embeddings
    train_windows = [w for s in train for w in scene_windows(tokenizer, s, block)]
    held_windows = [w for s in held for w in scene_windows(tokenizer, s, block)]
    loss = heldout_loss(
        model, held_windows, pad_id=tokenizer.pad_token_id, device=device
    )
    trigram = KneserNeyTrigram(len(tokenizer)).fit(w.input_ids for w in train_windows)
    targets = sum(sum(label != -100 for label in w.labels) for w in held_windows)

    # next lines sampled from held-out cues
    def sample(cue: Cue, k: int) -> Generation:
        return generate_line(
            model,
            tokenizer,
            cue,
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_k=config.top_k,
            seed=config.seed * 100_003 + k,
        )

    pairs = _next_line_cues(held, config.samples, rng)
    generations = [sample(cue, k) for k, (cue, _) in enumerate(pairs)]
    texts = [g.line.text for g in generations]
    reals = [real for _, real in pairs]
    speakers = [cue.speaker for cue, _ in pairs]

    # who it sounds like, beside the classifier's ceiling on real held-out lines
    train_lines = [line for s in train for line in s.lines]
    speaker_id: dict = {"generated": None, "real_heldout": None}
    try:
        classifier = SpeakerClassifier().fit(train_lines)
    except ValueError as error:
        speaker_id["skipped"] = str(error)
    else:
        core = [i for i, s in enumerate(speakers) if s in CORE_CAST]
        real_core = [
            line for s in held for line in s.lines if line.speaker in CORE_CAST
        ]
        speaker_id = {
            "generated": classifier.accuracy(
                [texts[i] for i in core], [speakers[i] for i in core]
            ),
            "generated_lines": len(core),
            "real_heldout": classifier.accuracy(
                [line.text for line in real_core], [line.speaker for line in real_core]
            ),
            "real_lines": len(real_core),
            "chance": 1 / len(CORE_CAST),
        }

    # overlap with the real next line, beside a random training line of the same speaker
    by_speaker: defaultdict[str, list[str]] = defaultdict(list)
    for line in train_lines:
        if line.speaker != NARRATOR and line.text:
            by_speaker[line.speaker].append(line.text)
    baseline = [
        (rng.choice(by_speaker[s]), real)
        for s, real in zip(speakers, reals, strict=True)
        if by_speaker[s]
    ]
    copied = ngram_index((line.text for line in train_lines), 8)
    real_held = [
        line.text for s in held for line in s.lines if line.speaker != NARRATOR
    ]

    # council answers: on the task's topic, not an echo of it
    council: dict = {"on_topic": None, "answers": 0}
    council_cues = _council_cues(held, config.council_scenes)
    tasks = sorted({s.task for s in scenes if s.kind == "council" and s.task})
    if council_cues and len(tasks) >= 2:
        answers = [sample(cue, 1_000_000 + k) for k, cue in enumerate(council_cues)]
        generations += answers
        verdicts = on_topic(
            load_sentence_model(),
            [a.line.text for a in answers],
            [tasks.index(cue.task) for cue in council_cues],
            tasks,
        )
        council = {
            "on_topic": sum(verdicts) / len(verdicts),
            "answers": len(verdicts),
            "scenes": len(council_cues) // len(CORE_CAST),
            "tasks_compared": len(tasks),
            "chance": 1 / len(tasks),
        }
    else:
        council["skipped"] = "needs a held-out council scene and two council tasks"

    first_token = [g.first_token_s for g in generations]
    decode_s = sum(max(g.seconds - g.first_token_s, 1e-9) for g in generations)
    decoded = sum(max(g.new_tokens - 1, 0) for g in generations)
    report = {
        "model": str(model_dir),
        "config": asdict(config),
        "scenes": {"train": len(train), "heldout": len(held)},
        "perplexity": {
            "model": _finite(math.exp(loss)),
            "ngram": _finite(trigram.perplexity(held_windows)),
            "ngram_kind": "interpolated Kneser-Ney token trigram, train split",
            "target_tokens": targets,
        },
        "format": {
            "valid": _mean([float(g.valid) for g in generations[: len(pairs)]]),
            "ended": _mean([float(g.ended) for g in generations[: len(pairs)]]),
            "samples": len(pairs),
        },
        "speaker_id": speaker_id,
        "rouge_l": {
            "generated": _mean(
                [rouge_l(t, r) for t, r in zip(texts, reals, strict=True)]
            ),
            "random_same_speaker": _mean([rouge_l(b, r) for b, r in baseline]),
        },
        "bleu": {
            "generated": bleu(texts, reals),
            "random_same_speaker": bleu(
                [b for b, _ in baseline], [r for _, r in baseline]
            ),
        },
        "distinct": {
            "distinct_1": distinct_n(texts, 1),
            "distinct_2": distinct_n(texts, 2),
            "real_distinct_1": distinct_n(reals, 1),
            "real_distinct_2": distinct_n(reals, 2),
        },
        "copying": {
            "generated_8gram_share": _mean([float(copies(t, copied)) for t in texts]),
            "real_heldout_8gram_share": _mean(
                [float(copies(t, copied)) for t in real_held]
            ),
        },
        "speed": {
            "device": device.type,
            "first_token_ms": 1000 * statistics.median(first_token)
            if first_token
            else None,
            "tokens_per_s": decoded / decode_s if decoded else None,
        },
        "council": council,
        "examples": [
            {"speaker": s, "real": r, "generated": g.raw}
            for s, r, g in list(zip(speakers, reals, generations, strict=False))[:8]
        ],
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "report.md").write_text(report_markdown(report))
    return report


def _fmt(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def report_markdown(report: dict) -> str:
    """Return `report` as a Markdown page: one table of metrics and a few examples."""
    p, f, s = report["perplexity"], report["format"], report["speaker_id"]
    r, b, d = report["rouge_l"], report["bleu"], report["distinct"]
    c, sp, co = report["copying"], report["speed"], report["council"]
    rows = [
        ("perplexity, model (held out)", _fmt(p["model"], 2), "lower is better"),
        ("perplexity, trigram baseline", _fmt(p["ngram"], 2), p["ngram_kind"]),
        ("format valid", _fmt(f["valid"]), f"of {f['samples']} generated lines"),
        ("ended with <|eot|>", _fmt(f["ended"]), ""),
        (
            "speaker ID, generated",
            _fmt(s.get("generated")),
            "TF-IDF + logistic regression",
        ),
        ("speaker ID, real held-out (ceiling)", _fmt(s.get("real_heldout")), ""),
        ("ROUGE-L vs real next line", _fmt(r["generated"]), ""),
        (
            "ROUGE-L, random same-speaker line",
            _fmt(r["random_same_speaker"]),
            "baseline",
        ),
        ("BLEU vs real next line", _fmt(b["generated"], 2), "sacrebleu, 0-100"),
        (
            "BLEU, random same-speaker line",
            _fmt(b["random_same_speaker"], 2),
            "baseline",
        ),
        (
            "distinct-1 / distinct-2",
            f"{_fmt(d['distinct_1'])} / {_fmt(d['distinct_2'])}",
            "",
        ),
        (
            "copied 8-gram share",
            _fmt(c["generated_8gram_share"]),
            "from training scenes",
        ),
        ("copied 8-gram share, real", _fmt(c["real_heldout_8gram_share"]), "base rate"),
        ("time to first token (ms)", _fmt(sp["first_token_ms"], 1), sp["device"]),
        ("tokens/s", _fmt(sp["tokens_per_s"], 1), ""),
        (
            "council answers on topic",
            _fmt(co.get("on_topic")),
            f"{co['answers']} answers",
        ),
    ]
    lines = [
        f"# Evaluation of {report['model']}",
        "",
        f"{report['scenes']['heldout']} held-out scenes, "
        f"{report['scenes']['train']} training scenes.",
        "",
        "| metric | value | note |",
        "| --- | --- | --- |",
        *(f"| {name} | {value} | {note} |" for name, value, note in rows),
        "",
        "## Examples",
        "",
    ]
    for example in report["examples"]:
        lines += [
            f"- **{example['speaker']}** real: {example['real']}",
            f"  generated: `{example['generated']}`",
        ]
    return "\n".join(lines) + "\n"
