"""Named training presets: `tiny` for smoke runs, `blade` for the shipped model."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from agents.training.corpus import CORPUS_DIR
from agents.training.model import ModelConfig
from agents.training.train import TrainConfig

STAGE_MODEL_DIR = CORPUS_DIR.parent / "stage_model"  # agents/stage_model/


@dataclass(frozen=True)
class Preset:
    """A named training config, with where its model goes unless told otherwise."""

    name: str
    config: TrainConfig
    out_dir: str | None  # default output directory; None: --out is required
    about: str


PRESETS = {
    "tiny": Preset(
        name="tiny",
        about="a few seconds on a CPU; a smoke test of the whole pipeline",
        out_dir=None,
        config=TrainConfig(
            model=ModelConfig(
                block_size=128, n_layer=2, n_head=2, n_kv_head=2, n_embd=64, dropout=0.0
            ),
            vocab_size=512,
            batch_size=8,
            max_steps=60,
            learning_rate=3e-3,
            min_lr=3e-4,
            warmup_steps=5,
            eval_interval=30,
            eval_windows=32,
            log_interval=5,
            checkpoint_interval=30,
        ),
    ),
    "blade": Preset(
        name="blade",
        about="the shipped stage model, trained on agents/corpus: 1,800 steps, "
        "about 45 minutes on an idle 2-core CPU (attention dropout 0.25 and residual "
        "dropout 0.2 against over-fitting the small corpus; the schedule decays fully "
        "by the last step, and the weights every 20 steps over the last 300 are "
        "averaged)",
        out_dir=str(STAGE_MODEL_DIR),
        config=TrainConfig(
            model=ModelConfig(
                block_size=512,
                n_layer=6,
                n_head=4,
                n_kv_head=4,
                n_embd=256,
                dropout=0.25,
            ),
            vocab_size=4096,
            batch_size=8,
            max_steps=1800,
            learning_rate=2e-3,
            min_lr=2e-4,
            warmup_steps=100,
            weight_decay=0.1,
            residual_dropout=0.2,
            average_last=15,
            average_every=20,
            eval_interval=100,
            log_interval=10,
            checkpoint_interval=100,
            time_limit_s=55 * 60,
        ),
    ),
}


def get_preset(name: str) -> Preset:
    """Return a copy of the preset `name`, or raise KeyError naming the choices."""
    try:
        return copy.deepcopy(PRESETS[name])
    except KeyError:
        raise KeyError(
            f"no training preset {name!r}; choose one of {', '.join(PRESETS)}"
        ) from None
