"""Loss, accuracy and confusion matrix of a network on a labelled set."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from digits_cnn.model import NUM_CLASSES

EVAL_BATCH = 512


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float
    # confusion[true][predicted] = number of images
    confusion: tuple[tuple[int, ...], ...]


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device
) -> Evaluation:
    """Mean NLL loss, share of correct predictions and the confusion matrix, in eval mode."""
    model.eval()
    loss_sum = 0.0
    preds: list[torch.Tensor] = []
    for start in range(0, len(x), EVAL_BATCH):
        xb = x[start:start + EVAL_BATCH].to(device)
        yb = y[start:start + EVAL_BATCH].to(device)
        log_probs = model(xb)
        loss_sum += float(F.nll_loss(log_probs, yb, reduction="sum"))
        preds.append(log_probs.argmax(dim=1).cpu())
    pred = torch.cat(preds)
    pairs = y.cpu() * NUM_CLASSES + pred
    counts = torch.bincount(pairs, minlength=NUM_CLASSES * NUM_CLASSES).view(NUM_CLASSES, -1)
    confusion = tuple(tuple(int(c) for c in row) for row in counts.tolist())
    correct = sum(confusion[i][i] for i in range(NUM_CLASSES))
    return Evaluation(loss_sum / len(x), correct / len(x), confusion)
