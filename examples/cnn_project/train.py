"""Train the digits CNN and log metrics, the model and a confusion matrix to the MLflow run.

Under `mlproj run` (or `mlflow run`) the run already exists and mlflow.start_run() resumes it
(MLFLOW_RUN_ID); run by hand it creates one (in ./mlruns unless MLFLOW_TRACKING_URI is set).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import torch
import torch.nn.functional as F
from digits_cnn.data import load_split
from digits_cnn.evaluate import evaluate
from digits_cnn.model import DigitsCNN, HParams, save_checkpoint
from digits_cnn.png import write_confusion_png
from digits_cnn.runtime import (
    DEVICE_CHOICES,
    describe,
    device_or_exit,
    make_deterministic,
    use_local_store_if_unset,
)
from torch.utils.data import DataLoader, TensorDataset

MODEL_FILE = "model.pt"
CONFUSION_FILE = "confusion_matrix.png"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=positive_int, default=5)
    p.add_argument("--conv-size", type=positive_int, default=3, help="convolution kernel size")
    p.add_argument("--lr", type=positive_float, default=0.001, help="Adam learning rate")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--seed", type=int, default=42, help="seeds the split, weights and shuffling")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    return p.parse_args(argv)


def log_params_once(params: dict[str, object]) -> None:
    """Log only the params the run lacks: the runner has already logged the declared ones,
    as the user typed them (e.g. lr=1e-3), and MLflow refuses to change a logged value."""
    run = mlflow.active_run()
    existing = run.data.params if run is not None else {}
    missing = {k: v for k, v in params.items() if k not in existing}
    if missing:
        mlflow.log_params(missing)


def train_epoch(model: DigitsCNN, loader: DataLoader[tuple[torch.Tensor, ...]],
                opt: torch.optim.Optimizer, device: torch.device) -> float:
    """One pass over the training set; returns the mean loss per image."""
    model.train()
    loss_sum, seen = 0.0, 0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        loss = F.nll_loss(model(xb), yb)
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(xb)
        seen += len(xb)
    return loss_sum / seen


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    make_deterministic(args.seed)
    device = device_or_exit(args.device)
    split = load_split(args.seed)
    hp = HParams(conv_size=args.conv_size)
    model = DigitsCNN(hp).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(split.x_train, split.y_train), batch_size=args.batch_size,
                        shuffle=True, num_workers=0,
                        generator=torch.Generator().manual_seed(args.seed))

    use_local_store_if_unset()
    with mlflow.start_run() as run:
        print(f"run {run.info.run_id}: training on {describe(device)}, "
              f"{len(split.x_train)} train / {len(split.x_val)} validation images", flush=True)
        mlflow.set_tag("device", describe(device))
        log_params_once({"epochs": args.epochs, "conv_size": args.conv_size, "lr": args.lr,
                         "batch_size": args.batch_size, "seed": args.seed,
                         "device": args.device})
        mlflow.log_param("device_used", device.type)
        started = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            train_loss = train_epoch(model, loader, opt, device)
            ev = evaluate(model, split.x_val, split.y_val, device)
            mlflow.log_metrics({"train_loss": train_loss, "val_loss": ev.loss,
                                "val_accuracy": ev.accuracy}, step=epoch)
            print(f"epoch {epoch}/{args.epochs}  train_loss={train_loss:.4f}  "
                  f"val_loss={ev.loss:.4f}  val_accuracy={ev.accuracy:.4f}", flush=True)
        print(f"trained in {time.perf_counter() - started:.1f} s", flush=True)

        with tempfile.TemporaryDirectory() as tmp:
            save_checkpoint(model, hp, Path(tmp, MODEL_FILE))
            write_confusion_png(ev.confusion, Path(tmp, CONFUSION_FILE))
            mlflow.log_artifact(str(Path(tmp, MODEL_FILE)))
            mlflow.log_artifact(str(Path(tmp, CONFUSION_FILE)))
        print(f"model: {mlflow.get_artifact_uri(MODEL_FILE)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
