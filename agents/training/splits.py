"""The held-out split: whole scenes, chosen by a hash of the title and the seed."""

from __future__ import annotations

import hashlib

from agents.training.dataset import DialogueScene


def _draw(title: str, seed: int) -> float:
    """Return a number in [0, 1) fixed by `title` and `seed` alone."""
    digest = hashlib.sha256(f"{seed}:{title}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_scenes(
    scenes: list[DialogueScene], holdout: float = 0.1, seed: int = 0
) -> tuple[list[DialogueScene], list[DialogueScene]]:
    """Return (train, held_out) scenes, split per kind so each kind is held out too.

    A scene is held out when its draw falls below `holdout`; with `holdout` above zero,
    a kind with two scenes or more always gives at least one to each side. The order
    of `scenes` does not matter.
    """
    held_titles: set[str] = set()
    for kind in sorted({scene.kind for scene in scenes}):
        ranked = sorted(
            (scene for scene in scenes if scene.kind == kind),
            key=lambda scene: (_draw(scene.title, seed), scene.title),
        )
        chosen = [s for s in ranked if _draw(s.title, seed) < holdout]
        if holdout > 0 and len(ranked) >= 2:
            chosen = chosen[: len(ranked) - 1] or ranked[:1]
        held_titles.update(scene.title for scene in chosen)
    train = [scene for scene in scenes if scene.title not in held_titles]
    held = [scene for scene in scenes if scene.title in held_titles]
    return train, held
