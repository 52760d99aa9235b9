"""The network: three stride-2 convolutions and a 512-unit dense layer (Keras' MNIST convnet)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 10
CHANNELS = (32, 64, 128)
CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class HParams:
    """Everything needed to rebuild the network around a saved state_dict."""

    conv_size: int = 3
    image_size: int = 8
    dropout: float = 0.5
    dense_units: int = 512


class SameConv2d(nn.Conv2d):
    """A stride-2 convolution padded like TensorFlow's "same": the output is ceil(input / 2).

    torch's own padding="same" refuses strides > 1, and a symmetric pad of k // 2 is wrong for
    even kernels, so the (possibly uneven) padding is computed from the input size.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads: list[int] = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size),
                              reversed(self.stride), strict=True):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


class DigitsCNN(nn.Module):
    """1x8x8 image -> log-probabilities over the 10 digits."""

    def __init__(self, hp: HParams) -> None:
        super().__init__()
        if hp.conv_size < 1:
            raise ValueError(f"conv_size must be at least 1, got {hp.conv_size}")
        layers: list[nn.Module] = []
        in_ch, size = 1, hp.image_size
        for out_ch in CHANNELS:
            layers += [SameConv2d(in_ch, out_ch, hp.conv_size, stride=2), nn.ReLU()]
            in_ch, size = out_ch, math.ceil(size / 2)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(hp.dropout),
            nn.Linear(in_ch * size * size, hp.dense_units),
            nn.ReLU(),
            nn.Dropout(hp.dropout),
            nn.Linear(hp.dense_units, NUM_CLASSES),
            nn.LogSoftmax(dim=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.classifier(self.features(x))
        return out


def save_checkpoint(model: DigitsCNN, hp: HParams, path: Path) -> None:
    """Write the weights plus the hyper-parameters that rebuild the network."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "hparams": asdict(hp), "state_dict": state}, path)


def load_checkpoint(path: Path, device: torch.device) -> tuple[DigitsCNN, HParams]:
    """Rebuild a network saved by save_checkpoint, ready for evaluation on `device`."""
    not_ours = f"{path} is not a model file written by this project's train.py"
    try:
        # weights_only: a model file from elsewhere cannot run code while loading.
        data: Any = torch.load(path, map_location=device, weights_only=True)
    except OSError:
        raise
    except Exception as exc:  # torch reports a bad file as pickle, EOF, zip or runtime errors
        raise ValueError(f"{not_ours} ({type(exc).__name__})") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(not_ours)
    try:
        hp = HParams(**data["hparams"])
        model = DigitsCNN(hp).to(device)
        model.load_state_dict(data["state_dict"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(f"{not_ours}: its weights do not fit the network ({exc})") from exc
    model.eval()
    return model, hp
