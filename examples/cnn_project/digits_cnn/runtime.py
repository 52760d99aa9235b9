"""Process-wide setup shared by train.py and validate.py: determinism, device, tracking store."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")
# One thread: the same float summation order on every machine, and faster for a net this
# small (on a busy 2-core machine, 5 epochs took 1.2 s on one thread and 26 s on two).
CPU_THREADS = 1
EXIT_USAGE = 2


class DeviceUnavailable(Exception):
    """The requested device cannot be used on this machine."""


def make_deterministic(seed: int) -> None:
    """Seed every generator and make torch pick only reproducible kernels."""
    # cuBLAS reads this when its first handle is made; without it deterministic mode errors on GPU.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(CPU_THREADS)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


def choose_device(request: str) -> torch.device:
    """auto: a CUDA GPU when there is one, else the CPU; cuda: a GPU or DeviceUnavailable."""
    if request not in DEVICE_CHOICES:
        choices = ", ".join(DEVICE_CHOICES)
        raise DeviceUnavailable(f"unknown device {request!r}; use one of {choices}")
    has_gpu = torch.cuda.is_available()
    if request == "cuda" and not has_gpu:
        raise DeviceUnavailable(
            "device 'cuda' was requested but torch sees no CUDA GPU "
            f"(torch {torch.__version__}, torch.cuda.is_available() is False); "
            "use --device cpu or --device auto"
        )
    return torch.device("cuda" if request != "cpu" and has_gpu else "cpu")


def device_or_exit(request: str) -> torch.device:
    """choose_device for a command line: one clear message and exit status 2 when it fails."""
    try:
        return choose_device(request)
    except DeviceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def describe(device: torch.device) -> str:
    """'cpu', or 'cuda' plus the GPU's name, for the run's tags."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def use_local_store_if_unset() -> None:
    """Run by hand (no MLFLOW_TRACKING_URI): log to ./mlruns, the layout mlproj and MLflow share.

    MLflow's own default (sqlite:///mlflow.db) needs SQLAlchemy, which mlflow-skinny lacks.
    Under `mlproj run` the runner sets the URI and the run id, and this does nothing.
    """
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return
    import mlflow

    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = Path("mlruns").resolve().as_uri()
    mlflow.set_tracking_uri(uri)
    print(f"MLFLOW_TRACKING_URI is not set; logging to {uri}", file=sys.stderr)
