"""Benchmark the embedded backend: time to first token, stream and batch throughput."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from agents.backends import GenerationRequest  # noqa: E402
from agents.backends.embedded import DEFAULT_PATH, EmbeddedBackend  # noqa: E402
from agents.promptbook import Cue  # noqa: E402
from agents.tests.tiny_models import (  # noqa: E402
    STAGE_HEADING,
    STAGE_LINES,
    build_stage_model,
)


def parse_args() -> argparse.Namespace:
    """Return the command-line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_PATH, help="stage model")
    parser.add_argument("--batch", type=int, default=8, help="requests in the batch")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--runs", type=int, default=20, help="single-stream runs")
    parser.add_argument("--repeats", type=int, default=3, help="batch comparisons")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    # The stand-in built when the stage model is missing has the shipped shape
    # (agents.training.model.ModelConfig) and random weights unless trained.
    parser.add_argument("--hidden", type=int, default=384, help="stand-in width")
    parser.add_argument("--layers", type=int, default=6, help="stand-in depth")
    parser.add_argument("--train-steps", type=int, default=0, help="stand-in steps")
    return parser.parse_args()


def requests_for(
    count: int, context: int, max_new_tokens: int, temperature: float
) -> list[GenerationRequest]:
    """Return `count` different cues, each after `context` lines of the toy scene."""
    requests = []
    for i in range(count):
        turn = i % len(STAGE_LINES)
        lines = (STAGE_LINES[turn:] + STAGE_LINES[:turn])[:context]
        speaker = STAGE_LINES[(turn + context) % len(STAGE_LINES)].speaker
        cue = Cue(speaker=speaker, heading=STAGE_HEADING, lines=lines)
        requests.append(
            GenerationRequest(
                cue=cue,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                seed=i,
            )
        )
    return requests


def percentile(values: list[float], q: float) -> float:
    """Return the `q`-th percentile (0-100) of `values`, interpolated."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def time_to_first_piece(backend: EmbeddedBackend, request: GenerationRequest) -> float:
    """Return milliseconds from the call to the first streamed piece."""
    started = time.perf_counter()
    stream = backend.stream(request)
    next(stream)
    elapsed = (time.perf_counter() - started) * 1000
    stream.close()
    return elapsed


def load(args: argparse.Namespace) -> EmbeddedBackend:
    """Return the embedded backend, building a stand-in when the model is missing."""
    if args.model.exists():
        print(f"model: {args.model}")
        return EmbeddedBackend(path=args.model)
    stand_in = Path(tempfile.mkdtemp(prefix="stage_model_")) / "model"
    print(
        f"model: {args.model} does not exist yet; building a stand-in stage model "
        f"(hidden {args.hidden}, {args.layers} layers, {args.train_steps} training "
        f"steps on a toy scene) in {stand_in}"
    )
    build_stage_model(
        stand_in, hidden=args.hidden, layers=args.layers, steps=args.train_steps
    )
    return EmbeddedBackend(path=stand_in)


def compare(backend: EmbeddedBackend, requests: list, repeats: int) -> float:
    """Print batch against one-after-another throughput; return the median ratio."""
    ratios = []
    for _ in range(repeats):
        started = time.perf_counter()
        alone = [backend.generate(request) for request in requests]
        alone_s = time.perf_counter() - started
        started = time.perf_counter()
        together = backend.generate_batch(requests)
        together_s = time.perf_counter() - started
        alone_tokens = sum(g.tokens for g in alone)
        batch_tokens = sum(g.tokens for g in together)
        ratios.append((batch_tokens / together_s) / (alone_tokens / alone_s))
        print(
            f"  one after another {alone_tokens / alone_s:7.1f} tokens/s "
            f"({alone_tokens} tokens in {alone_s:.2f} s) | batch "
            f"{batch_tokens / together_s:7.1f} tokens/s ({batch_tokens} tokens in "
            f"{together_s:.2f} s) | ratio {ratios[-1]:.2f}x"
        )
    return statistics.median(ratios)


def main() -> None:
    """Run the benchmark and print its figures."""
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    backend = load(args)
    params = sum(p.numel() for p in backend.model.parameters())
    print(
        f"device: {backend.device}, dtype: {backend.dtype}, parameters: {params:,}, "
        f"torch threads: {torch.get_num_threads()}, max new tokens: "
        f"{args.max_new_tokens}, temperature: {args.temperature}"
    )
    workloads = {"short cue (1 line of transcript)": 1, "long cue (8 lines)": 8}
    ratios = {}
    for title, context in workloads.items():
        requests = requests_for(
            args.batch, context, args.max_new_tokens, args.temperature
        )
        sizes = [len(backend.prompt_ids(request)) for request in requests]
        print(f"\n{title}: {min(sizes)}-{max(sizes)} prompt tokens")
        backend.generate_batch(requests[:2])  # warm up
        firsts = [
            time_to_first_piece(backend, requests[i % len(requests)])
            for i in range(args.runs)
        ]
        print(
            f"  time to first token: p50 {percentile(firsts, 50):.1f} ms, "
            f"p95 {percentile(firsts, 95):.1f} ms ({args.runs} streams)"
        )
        singles = [backend.generate(requests[i % len(requests)]) for i in range(10)]
        tokens = sum(g.tokens for g in singles)
        seconds = sum(g.latency_ms for g in singles) / 1000
        print(f"  one stream: {tokens / seconds:.1f} tokens/s ({tokens} tokens)")
        ratios[title] = compare(backend, requests, args.repeats)
    print()
    for title, ratio in ratios.items():
        print(
            f"{title}: batch of {args.batch} / one after another, aggregate "
            f"tokens/s: {ratio:.2f}x (median of {args.repeats})"
        )


if __name__ == "__main__":
    main()
