"""Benchmark: lines per minute of a running performance on the embedded model.

Drives one performance through the stage worker (director, minds, backend, commits,
memories) with no reading pause, and prints lines per minute and per-line latency.

    .venv/bin/python bench/stage_pace.py [--turns 20] [--scene SLUG] [--best-of N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Perform one scene with a worker and print its pace."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--scene", default="jacaranda-after-the-fight")
    parser.add_argument("--best-of", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.update(
        STAGEPLAY_DATA_DIR=tempfile.mkdtemp(prefix="stageplay-pace-"),
        DJANGO_SETTINGS_MODULE="stageplay.settings",
    )
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    if args.best_of is not None:
        settings.STAGEPLAY = {**settings.STAGEPLAY, "BEST_OF": args.best_of}
    call_command("migrate", verbosity=0)
    call_command("load_cast", verbosity=0)

    from performances import services
    from performances.models import Scene
    from performances.worker import StageWorker, WorkerOptions
    from stageplay.conf import stage_settings

    scene = Scene.objects.get(slug=args.scene)
    performance = services.performance_create(
        scene=scene, seed=args.seed, turn_limit=args.turns
    )
    services.performance_start(performance=performance)
    options = WorkerOptions.from_settings(pace_seconds=0.0)
    worker = StageWorker(options, name="bench")
    started = time.perf_counter()
    worker.run_once()
    seconds = time.perf_counter() - started
    performance.refresh_from_db()
    lines = list(performance.lines.all())
    latencies = [line.latency_ms for line in lines]
    print(
        f"scene {scene.slug}: {len(lines)} lines in {seconds:.1f} s, status "
        f"{performance.status}"
    )
    print(
        f"lines per minute: {len(lines) / seconds * 60:.1f} (no reading pause; "
        f"the stage adds LINE_PACE_SECONDS={stage_settings.LINE_PACE_SECONDS} "
        "between lines)"
    )
    if latencies:
        print(
            f"generation latency per line: p50 {statistics.median(latencies):.0f} ms, "
            f"max {max(latencies)} ms"
        )


if __name__ == "__main__":
    main()
