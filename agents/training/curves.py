"""The loss curve of a training run, as JSON and as a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path


def save_loss_curve(history: dict[str, list[list[float]]], out_dir: Path) -> None:
    """Write `history` ({"train": [[step, loss]...], "val": ...}) as JSON and PNG."""
    (out_dir / "loss_curve.json").write_text(json.dumps(history) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    for name, points in history.items():
        if points:
            steps, losses = zip(*points, strict=True)
            axes.plot(
                steps, losses, label=f"{name} loss", marker="." if name == "val" else ""
            )
    axes.set_xlabel("step")
    axes.set_ylabel("loss per target token (nats)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(out_dir / "loss_curve.png")
    plt.close(figure)
