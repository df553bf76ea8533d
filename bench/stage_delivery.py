"""Benchmark: delivery latency of committed lines to many websocket viewers.

Measures, in one run and on loopback, the time from a line's commit to its arrival at
every connected viewer of StagePlay's websocket (daphne + Channels + channels-redis),
beside a bare broadcast of the same frames by a minimal `websockets` server fed through
the same Redis, and prints p50/p95 for each and their ratio.

    .venv/bin/python bench/stage_delivery.py --viewers 100 1000 --lines 20

Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BARE_CHANNEL = "stageplay-bench-bare"
CONNECT_GAP = 0.005  # seconds between two viewers' connections
WAIT_SECONDS = 120  # how long viewers wait for every line before giving up


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def bare_server(port: int, redis_url: str) -> None:
    """Serve websockets that rebroadcast every frame published on BARE_CHANNEL."""
    import redis.asyncio as aioredis
    import websockets

    clients = set()

    async def handler(ws):
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with websockets.serve(handler, "127.0.0.1", port, max_queue=None):
        pubsub = aioredis.from_url(redis_url).pubsub()
        await pubsub.subscribe(BARE_CHANNEL)
        async for message in pubsub.listen():
            if message["type"] == "message":
                websockets.broadcast(clients, message["data"].decode())


async def viewers(url: str, count: int, lines: int, out: str, origin: str) -> None:
    """Connect `count` viewers, record each line's arrival time, write them to `out`.

    Viewers that fail to connect are counted, not waited for.
    """
    import websockets

    arrivals: list[list[float]] = []
    settled = 0
    failed = 0

    async def viewer():
        nonlocal settled, failed
        seen: list[float] = []
        try:
            ws = await websockets.connect(
                url, origin=origin, max_size=None, open_timeout=60
            )
        except (OSError, websockets.WebSocketException, TimeoutError):
            failed += 1
            settled += 1
            return
        settled += 1
        try:
            async with ws:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame.get("type") == "line.end":
                        seen.append(time.time())
                        if len(seen) == lines:
                            break
        except (OSError, websockets.WebSocketException):
            pass
        arrivals.append(seen)

    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(viewer()))
        await asyncio.sleep(CONNECT_GAP)
    while settled < count:
        await asyncio.sleep(0.05)
    Path(out + ".ready").write_text(str(failed))
    done, pending = await asyncio.wait(tasks, timeout=WAIT_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    Path(out).write_text(json.dumps({"failed": failed, "arrivals": arrivals}))


def start_viewers(url: str, count: int, lines: int, origin: str) -> tuple:
    """Start the viewers in their own process and wait until all are connected."""
    out = tempfile.mktemp(suffix=".json")
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--as-viewers",
            url,
            str(count),
            str(lines),
            out,
            origin,
        ]
    )
    while not Path(out + ".ready").exists():
        if proc.poll() is not None:
            raise SystemExit("viewers failed to connect")
        time.sleep(0.1)
    return proc, out


def latencies(commits: list[float], out: str) -> tuple[list[float], int]:
    """Return every viewer's delay for every line in ms, and how many never connected."""
    result = json.loads(Path(out).read_text())
    delays = [
        (arrived - commits[i]) * 1000
        for seen in result["arrivals"]
        for i, arrived in enumerate(seen)
    ]
    expected = (len(result["arrivals"])) * len(commits)
    return delays, result["failed"] + (expected - len(delays)) / max(1, len(commits))


def pct(values: list[float], q: float) -> float:
    """Return the q-th percentile of `values`."""
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else 0.0


def run_stage(
    count: int, lines: int, redis_url: str, data_dir: str, server_name: str
) -> tuple:
    """Measure StagePlay's websocket for `count` viewers, served by `server_name`."""
    import django

    from performances import services
    from performances.models import Performance

    port = free_port()
    env = dict(
        os.environ,
        REDIS_URL=redis_url,
        STAGEPLAY_DATA_DIR=data_dir,
        STAGEPLAY_NO_WORKER="1",
        DEBUG="0",
    )
    command = {
        "daphne": ["daphne", "-b", "127.0.0.1", "-p", str(port)],
        "uvicorn": ["uvicorn", "--host", "127.0.0.1", "--port", str(port)],
    }[server_name]
    server = subprocess.Popen(
        [sys.executable, "-m", *command, "stageplay.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        performance = Performance.objects.get(pk=1)
        time.sleep(2.0)
        url = f"ws://127.0.0.1:{port}/ws/performances/{performance.pk}/"
        proc, out = start_viewers(url, count, lines, f"http://127.0.0.1:{port}")
        commits = []
        for i in range(lines):
            services.line_append(
                performance=performance, text=f"Line {i} of the bench."
            )
            commits.append(time.time())
            time.sleep(0.2)
        proc.wait(timeout=WAIT_SECONDS + 60)
        django.db.connections.close_all()
        return latencies(commits, out)
    finally:
        server.terminate()
        server.wait()


def run_bare(count: int, lines: int, redis_url: str) -> tuple:
    """Measure the bare websockets broadcast for `count` viewers."""
    import redis

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--as-bare", str(port), redis_url]
    )
    try:
        time.sleep(1.0)
        proc, out = start_viewers(
            f"ws://127.0.0.1:{port}/", count, lines, f"http://127.0.0.1:{port}"
        )
        client = redis.Redis.from_url(redis_url)
        commits = []
        for i in range(lines):
            frame = {
                "type": "line.end",
                "index": i,
                "speaker": "Narrator",
                "text": f"Line {i} of the bench.",
            }
            commits.append(time.time())
            client.publish(BARE_CHANNEL, json.dumps(frame))
            time.sleep(0.2)
        proc.wait(timeout=WAIT_SECONDS + 60)
        return latencies(commits, out)
    finally:
        server.terminate()
        server.wait()


def setup_django(redis_url: str, data_dir: str) -> None:
    """Configure Django on a fresh database with the cast and one running show."""
    os.environ.update(
        REDIS_URL=redis_url,
        STAGEPLAY_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="stageplay.settings",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_cast", verbosity=0)
    from performances import services
    from performances.models import Scene

    performance = services.performance_create(scene=Scene.objects.first())
    services.performance_start(performance=performance)


def main() -> None:
    """Run both measurements for each viewer count and print a table."""
    if sys.argv[1:2] == ["--as-viewers"]:
        url, count, lines, out, origin = sys.argv[2:7]
        asyncio.run(viewers(url, int(count), int(lines), out, origin))
        return
    if sys.argv[1:2] == ["--as-bare"]:
        asyncio.run(bare_server(int(sys.argv[2]), sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument(
        "--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--server",
        choices=["daphne", "uvicorn"],
        default="daphne",
        help="the ASGI server StagePlay runs under",
    )
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="stageplay-bench-")
    setup_django(args.redis, data_dir)
    print(
        f"{'viewers':>8} {'stage p50':>10} {'stage p95':>10} {'bare p50':>9} "
        f"{'bare p95':>9} {'p95 ratio':>10} {'lost stage/bare':>16}"
    )
    for count in args.viewers:
        stage, stage_lost = run_stage(
            count, args.lines, args.redis, data_dir, args.server
        )
        bare, bare_lost = run_bare(count, args.lines, args.redis)
        ratio = pct(stage, 95) / max(pct(bare, 95), 1e-6)
        print(
            f"{count:>8} {pct(stage, 50):>9.1f}ms {pct(stage, 95):>9.1f}ms "
            f"{pct(bare, 50):>8.1f}ms {pct(bare, 95):>8.1f}ms {ratio:>9.2f}x "
            f"{stage_lost:>8.0f}/{bare_lost:<7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
