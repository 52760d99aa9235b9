"""scikit-learn's bundled 8x8 digits: 1797 images shipped in the package, nothing downloaded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

VALIDATION_FRACTION = 0.2
MAX_PIXEL = 16.0  # the digits' pixel values run from 0 to 16


@dataclass(frozen=True)
class Split:
    """Images as float tensors of shape (N, 1, 8, 8) in [0, 1], labels as int64 (N,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


def load_split(seed: int) -> Split:
    """The same stratified train/validation split for the same seed, every time."""
    digits = load_digits()
    images = (digits.images / MAX_PIXEL).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    x_tr, x_va, y_tr, y_va = train_test_split(
        images, labels, test_size=VALIDATION_FRACTION, stratify=labels, random_state=seed
    )
    return Split(
        torch.from_numpy(np.ascontiguousarray(x_tr)), torch.from_numpy(y_tr),
        torch.from_numpy(np.ascontiguousarray(x_va)), torch.from_numpy(y_va),
    )
