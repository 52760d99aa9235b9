"""Evaluate a model file written by train.py on the validation split and log its accuracy."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import mlflow
from digits_cnn.data import load_split
from digits_cnn.evaluate import evaluate
from digits_cnn.model import load_checkpoint
from digits_cnn.png import write_confusion_png
from digits_cnn.runtime import (
    DEVICE_CHOICES,
    EXIT_USAGE,
    describe,
    device_or_exit,
    make_deterministic,
    use_local_store_if_unset,
)

CONFUSION_FILE = "confusion_matrix.png"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model-path", required=True,
                   help="model.pt from a training run (a local path, or an MLflow artifact URI "
                        "such as runs:/<run id>/model.pt)")
    p.add_argument("--seed", type=int, default=42, help="the seed the model was trained with")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    return p.parse_args(argv)


def local_model_file(spec: str) -> Path:
    """A local file as is; anything with a scheme (runs:/, s3://, ...) is downloaded by MLflow."""
    path = Path(spec)
    if path.is_file() or ":" not in spec:
        return path
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=spec))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    make_deterministic(args.seed)
    device = device_or_exit(args.device)
    use_local_store_if_unset()
    model_file = local_model_file(args.model_path)
    try:
        model, hp = load_checkpoint(model_file, device)
    except (OSError, ValueError) as exc:
        print(f"error: cannot load model {args.model_path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    split = load_split(args.seed)
    ev = evaluate(model, split.x_val, split.y_val, device)

    with mlflow.start_run() as run:
        mlflow.set_tag("device", describe(device))
        mlflow.log_param("device_used", device.type)
        mlflow.log_param("conv_size", hp.conv_size)
        mlflow.log_metrics({"val_loss": ev.loss, "val_accuracy": ev.accuracy})
        with tempfile.TemporaryDirectory() as tmp:
            write_confusion_png(ev.confusion, Path(tmp, CONFUSION_FILE))
            mlflow.log_artifact(str(Path(tmp, CONFUSION_FILE)))
        print(f"run {run.info.run_id}: {len(split.x_val)} validation images on {describe(device)}")
        print(f"val_loss={ev.loss:.4f}  val_accuracy={ev.accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
