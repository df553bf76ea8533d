"""The masked next-token loss, for one batch and over a held-out set."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from agents.training.windows import IGNORE, Window, collate


def batch_nll(
    model: PreTrainedModel, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, int]:
    """Return the negative log-likelihood of the batch's targets, and their count."""
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).logits  # (B, T, V)
    targets = batch["labels"][:, 1:]  # (B, T-1): token t+1 is predicted at t
    nll = F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)).float(),
        targets.reshape(-1),
        ignore_index=IGNORE,
        reduction="sum",
    )
    return nll, int((targets != IGNORE).sum())


@torch.no_grad()
def heldout_loss(
    model: PreTrainedModel,
    windows: list[Window],
    *,
    pad_id: int,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
) -> float:
    """Return the loss per target token over `windows` (nan when there is none)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(windows), batch_size):
        batch = collate(windows[start : start + batch_size], pad_id)
        batch = {key: value.to(device) for key, value in batch.items()}
        nll, n = batch_nll(model, batch)
        total += float(nll)
        count += n
    model.train(was_training)
    return total / count if count else math.nan
