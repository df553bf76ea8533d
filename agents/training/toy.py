"""A tiny hand-written dialogue set, for tests and smoke runs of the training code."""

from __future__ import annotations

import random

from agents.promptbook import NARRATOR, ScriptLine
from agents.training.dataset import DialogueScene

CORE = ("kenzaki", "tachibana", "hajime", "mutsuki")

# each speaker has a voice: a few habits of speech the models can pick up
VOICES: dict[str, dict[str, list[str]]] = {
    "kenzaki": {
        "emotions": ["determination", "joy", "anger"],
        "lines": [
            "I will protect everyone, no matter what happens to me!",
            "We cannot give up now, there are people waiting for us!",
            "Leave it to me, I will fight until the very end!",
            "Everyone deserves to be saved, even the ones who run away!",
        ],
    },
    "tachibana": {
        "emotions": ["calm", "fear", "sadness"],
        "lines": [
            "The data says the board is unstable; we should wait and measure first.",
            "My body is failing me, but the analysis is still correct.",
            "Consider the risk carefully; a reckless move costs lives.",
            "I have checked the numbers twice, and the pattern is clear.",
        ],
    },
    "hajime": {
        "emotions": ["calm", "anger", "sadness"],
        "lines": [
            "Don't get in my way.",
            "Humans are strange creatures. I still do not understand them.",
            "Leave me alone. I have my own reasons.",
            "The girl at the cafe must never learn what I am.",
        ],
    },
    "mutsuki": {
        "emotions": ["fear", "surprise", "determination"],
        "lines": [
            "The spider's voice is whispering again, it wants me to be stronger.",
            "I can control this darkness, I know I can, senpai!",
            "Nobody takes me seriously because I am still in school.",
            "Maybe power is the only answer, maybe the voice is right.",
        ],
    },
    "haruka": {
        "emotions": ["joy", "calm"],
        "lines": [
            "Tea is ready, everyone, please sit down for a while.",
            "Amane is waiting for you at home, Hajime-san.",
        ],
    },
}

PLACES = [
    "INT. BOARD LAB - NIGHT",
    "EXT. QUARRY - DAY",
    "INT. CAFE JACARANDA - MORNING",
]

TASKS = [
    "How can a small bakery welcome a shy new baker without forcing her?",
    "What should a school do when two friends stop talking after a fight?",
    "How can a tired night nurse keep her sleep on a rotating schedule?",
    "Should a family sell the old house their grandmother loved?",
]


def toy_scenes(
    count: int = 12, *, lines_per_scene: int = 14, seed: int = 0
) -> list[DialogueScene]:
    """Return `count` small scenes in which each character keeps a recognisable voice.

    Every third scene is a council scene with a task; the result depends only on the
    arguments.
    """
    rng = random.Random(seed)
    speakers = list(VOICES)
    scenes = []
    for number in range(count):
        council = number % 3 == 2
        task = TASKS[(number // 3) % len(TASKS)] if council else ""
        lines = [ScriptLine(NARRATOR, "The riders gather around the table.")]
        for _ in range(lines_per_scene):
            speaker = rng.choice(speakers)
            voice = VOICES[speaker]
            text = rng.choice(voice["lines"])
            if council and speaker in CORE:
                text = f"About this problem: {task.lower().rstrip('?')}. {text}"
            direction = rng.choice(["", "", "leans forward", "looks away"])
            emotion = rng.choice(voice["emotions"])
            lines.append(ScriptLine(speaker, text, emotion, direction))
        scenes.append(
            DialogueScene(
                title=f"Toy scene {number:02d}",
                heading=f"{rng.choice(PLACES)}. The riders meet.",
                task=task,
                kind="council" if council else "world",
                lines=lines,
                source="toy",
            )
        )
    return scenes
