"""Evaluate a stage model on held-out scenes: a JSON and a Markdown report."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from agents.backends.base import BackendError
from agents.backends.embedded import EmbeddedBackend
from agents.promptbook import NARRATOR, Cue
from agents.training.dataset import DialogueScene
from agents.training.generation import Generation, generate_line
from agents.training.losses import heldout_loss
from agents.training.metrics import bleu, copies, distinct_n, ngram_index, rouge_l
from agents.training.model import quiet_progress
from agents.training.ngram import KneserNeyTrigram
from agents.training.similarity import follows, load_sentence_model, on_topic
from agents.training.speaker_id import CORE_CAST, SpeakerClassifier
from agents.training.splits import split_scenes
from agents.training.stage_eval import (
    compare_reranking,
    line_before,
    reranker_for_report,
)
from agents.training.tokenizer import load_tokenizer
from agents.training.windows import scene_windows


@dataclass
class EvalConfig:
    """How much to generate and how to sample; the defaults suit the shipped model."""

    samples: int = 60  # next lines generated from held-out cues, for the line metrics
    council_problems: int = 20  # held-out problems the council is asked (at most)
    max_new_tokens: int = 80  # the longest generated line, in tokens
    temperature: float = 0.8  # sampling temperature
    top_k: int = 50  # sample among the k likeliest tokens
    top_p: float = 0.95  # nucleus mass of the stage's decoding (minds.TOP_P)
    best_of: int = 4  # candidates per line in the re-ranked section (1: none)
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


def load_problems(path: str | Path) -> list[str]:
    """Return the council problems of the JSON file `path`, or raise ValueError.

    The file is `{"problems": [{"task": "How should ...?", ...}, ...]}`; every task
    must be a distinct, non-empty question.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such problems file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    problems = data.get("problems") if isinstance(data, dict) else None
    if not isinstance(problems, list) or len(problems) < 2:
        raise ValueError(f'{path}: expected {{"problems": [...]}} with two or more')
    tasks = []
    for i, problem in enumerate(problems):
        task = problem.get("task") if isinstance(problem, dict) else None
        if not isinstance(task, str) or not task.strip():
            raise ValueError(f"{path}: problems[{i}]: field task: a non-empty question")
        if task.strip() in tasks:
            raise ValueError(f"{path}: problems[{i}]: field task: duplicate {task!r}")
        tasks.append(task.strip())
    return tasks


def evaluate_model(
    model_dir: str | Path,
    scenes: list[DialogueScene],
    config: EvalConfig | None = None,
    *,
    council_cues: Sequence[Cue] = (),
    out_dir: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Measure the model at `model_dir` on its held-out scenes; write report.json/.md.

    The report covers perplexity beside a Kneser-Ney trigram baseline, the format of
    generated lines, who they sound like, overlap with the real next line, diversity,
    copying from the training scenes, speed, and whether the council's answers to
    `council_cues` (held-out problems, asked as `agents.council` asks) stay on topic;
    then the line metrics again as the stage draws lines, without and with best-of-N
    re-ranking (`stage_eval.compare_reranking`).
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
        classifier = None
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

    # whether a line is about what was just said to it, beside the real lines
    encoder = load_sentence_model()
    before = [line_before(cue) for cue, _ in pairs]
    following = {
        "generated": follows(encoder, texts, before),
        "real": follows(encoder, reals, before),
        "pairs": len(pairs),
        "chance": 0.5,
    }

    # council answers to held-out problems: on the problem's topic, not an echo of it
    tasks = list(dict.fromkeys(cue.task for cue in council_cues))
    tasks = tasks[: config.council_problems]
    council_cues = [cue for cue in council_cues if cue.task in tasks]
    council: dict = {"on_topic": None, "answers": 0}
    if len(tasks) >= 2:
        answers = [sample(cue, 1_000_000 + k) for k, cue in enumerate(council_cues)]
        generations += answers
        verdicts = on_topic(
            encoder,
            [a.line.text for a in answers],
            [tasks.index(cue.task) for cue in council_cues],
            tasks,
        )
        council = {
            "on_topic": sum(verdicts) / len(verdicts),
            "answers": len(verdicts),
            "problems": len(tasks),
            "chance": 1 / len(tasks),
        }
    else:
        council["skipped"] = "needs council cues on two problems or more"

    # the same metrics through the stage's decoding, without and with re-ranking
    def embed(texts: list[str]):
        return encoder.encode(
            list(texts), normalize_embeddings=True, show_progress_bar=False
        )

    try:
        backend = EmbeddedBackend(path=model_dir, device=device.type)
    except BackendError as error:
        reranking: dict = {"skipped": str(error)}
    else:
        reranker, source = reranker_for_report(model_dir, train, embed)
        log(f"drawing stage lines without and with best of {config.best_of}")
        reranking = {
            "reranker": source,
            **compare_reranking(
                backend,
                reranker,
                [cue for cue, _ in pairs],
                council_cues if len(tasks) >= 2 else [],
                tasks,
                best_of=config.best_of,
                temperature=config.temperature,
                top_p=config.top_p,
                max_new_tokens=config.max_new_tokens,
                seed=config.seed,
                classifier=classifier,
                encoder=encoder,
                copied=copied,
            ),
        }

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
        "following": following,
        "council": council,
        "reranking": reranking,
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
    fo = report["following"]
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
        (
            "follows the line before",
            _fmt(fo["generated"]),
            f"real held-out lines {_fmt(fo['real'])}; chance {_fmt(fo['chance'])}",
        ),
        ("time to first token (ms)", _fmt(sp["first_token_ms"], 1), sp["device"]),
        ("tokens/s", _fmt(sp["tokens_per_s"], 1), ""),
        (
            "council answers on topic",
            _fmt(co.get("on_topic")),
            f"{co['answers']} answers to {co.get('problems', 0)} held-out problems",
        ),
    ]
    lines = [
        f"# Evaluation of {report['model']}",
        "",
        f"{report['scenes']['heldout']} held-out scenes, "
        f"{report['scenes']['train']} training scenes. The generated lines of this "
        "table are one sample per cue from `model.generate` (top-k), without "
        "re-ranking; the next section draws them as the stage does.",
        "",
        "| metric | value | note |",
        "| --- | --- | --- |",
        *(f"| {name} | {value} | {note} |" for name, value, note in rows),
        "",
        "Follows the line before: how often a line is nearer (all-MiniLM-L6-v2) "
        "the line just said to it than the line said before another sampled line; "
        "0.5 is chance, and the real held-out lines give the ceiling.",
        "",
        *reranking_markdown(report.get("reranking", {}), s.get("real_heldout")),
        "## Examples",
        "",
    ]
    for example in report["examples"]:
        lines += [
            f"- **{example['speaker']}** real: {example['real']}",
            f"  generated: `{example['generated']}`",
        ]
    return "\n".join(lines) + "\n"


def reranking_markdown(reranking: dict, ceiling: float | None) -> list[str]:
    """Return the Markdown lines comparing stage lines without and with re-ranking."""
    title = "## Stage generation: without and with re-ranking"
    if "with_reranking" not in reranking:
        return [title, "", f"Skipped: {reranking.get('skipped', 'not run')}", ""]
    one, best = reranking["without_reranking"], reranking["with_reranking"]

    def ratio(section: dict) -> str:
        if section["speaker_id"] is None or not ceiling:
            return "n/a"
        return _fmt(section["speaker_id"] / ceiling)

    rows = [
        ("format valid", "format_valid", 3, f"of {reranking['samples']} lines"),
        ("ended by itself", "ended", 3, ""),
        ("speaker ID", "speaker_id", 3, f"{reranking['speaker_id_lines']} lines"),
        ("copied 8-gram share", "copied_8gram_share", 3, "from training scenes"),
        ("distinct-1", "distinct_1", 3, ""),
        ("distinct-2", "distinct_2", 3, ""),
        (
            "follows the line before",
            "follows_line_before",
            3,
            "the reranker favours fit to the last lines",
        ),
        (
            "council answers on topic",
            "council_on_topic",
            3,
            f"{reranking['council_answers']} answers",
        ),
        (
            "the same, the problem's own words removed",
            "council_on_topic_without_task_words",
            3,
            "what the rest of the answer says",
        ),
        ("time to first token (ms)", "first_token_ms", 1, "median"),
        ("latency (ms)", "latency_ms", 1, "median, whole line"),
    ]
    lines = [
        title,
        "",
        "Lines drawn by the embedded backend as on stage (prompt-book grammar, "
        f"top-p sampling). Best of {best['best_of']}: that many candidates in one "
        "batch, the one the reranker scores best is kept; its timings include "
        "drawing and scoring them all. Speaker ID is measured by the evaluation's "
        "own classifier (word TF-IDF), which the reranker never uses; the "
        f"reranker ({reranking['reranker']}) has its own (character n-grams). "
        "Council on-topic is judged with all-MiniLM-L6-v2, which the reranker also "
        "uses to score a candidate's fit to its own problem (the metric then "
        "compares it with every problem). Unlike the table above, both columns "
        "steer toward the problem's words (the embedded backend's `topic_bias`).",
        "",
        f"| metric | without re-ranking (N=1) | with re-ranking (best of "
        f"{best['best_of']}) | note |",
        "| --- | --- | --- | --- |",
        *(
            f"| {name} | {_fmt(one[key], digits)} | {_fmt(best[key], digits)} "
            f"| {note} |"
            for name, key, digits, note in rows
        ),
        f"| speaker ID / ceiling | {ratio(one)} | {ratio(best)} | ceiling "
        f"{_fmt(ceiling)} |",
        "",
    ]
    return lines
