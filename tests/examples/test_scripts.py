"""train.py and validate.py run with plain `python`, as the runner would start them, against a
fresh MLflow file store; everything is checked through MlflowClient, as a user would look."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.examples.support import EXAMPLE_DIR, gpu, require_torch

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

# torch and mlflow are imported by the tests that use them: collecting this module (which the
# fast lane deselects) would cost seconds of CPU otherwise.
pytestmark = pytest.mark.examples

METRICS = ("train_loss", "val_loss", "val_accuracy")
EPOCHS = 2
SEED = 3
CONV = 4


@pytest.fixture(scope="module", autouse=True)
def torch_installed() -> None:
    require_torch()


@dataclass(frozen=True)
class Store:
    root: Path
    uri: str

    def env(self, **extra: str) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.uri, "MLFLOW_ALLOW_FILE_STORE": "true", **extra}


@dataclass(frozen=True)
class Trained:
    run_id: str
    proc: subprocess.CompletedProcess[str]


def run_script(
    script: str,
    args: list[str],
    cwd: Path,
    env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    """`python <example>/script args`, with no MLFLOW_* variable but those given."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, str(EXAMPLE_DIR / script), *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run_id_of(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr[-3000:]
    match = re.search(r"^run ([0-9a-f]{32}):", proc.stdout, re.M)
    assert match, proc.stdout
    return match.group(1)


def train(store: Store, cwd: Path, *extra: str, **env: str) -> Trained:
    args = ["--epochs", str(EPOCHS), "--seed", str(SEED), "--conv-size", str(CONV), *extra]
    proc = run_script("train.py", args, cwd, store.env(**env))
    return Trained(run_id_of(proc), proc)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("store") / "mlruns"
    return Store(root, root.as_uri())


@pytest.fixture(scope="module")
def two_runs(store: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Trained, Trained]:
    cwd = tmp_path_factory.mktemp("cwd")
    return train(store, cwd), train(store, cwd)


@pytest.fixture
def client(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    yield MlflowClient(tracking_uri=store.uri)


def history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_metrics_are_logged_once_per_epoch(
    two_runs: tuple[Trained, Trained], client: MlflowClient
) -> None:
    first = two_runs[0]
    for key in METRICS:
        assert [step for step, _ in history(client, first.run_id, key)] == [1, 2], key
    accuracies = [v for _, v in history(client, first.run_id, "val_accuracy")]
    assert all(0.0 <= a <= 1.0 for a in accuracies)
    assert accuracies[-1] > 0.3  # well above chance (0.1) after two epochs
    lines = [ln for ln in first.proc.stdout.splitlines() if ln.startswith("epoch ")]
    assert [ln.split()[1] for ln in lines] == ["1/2", "2/2"]
    assert client.get_run(first.run_id).info.status == "FINISHED"


def test_same_seed_gives_identical_metrics(
    two_runs: tuple[Trained, Trained], client: MlflowClient
) -> None:
    a, b = two_runs
    assert a.run_id != b.run_id
    for key in METRICS:
        assert history(client, a.run_id, key) == history(client, b.run_id, key), key


def test_two_epochs_train_on_the_small_bundled_digits_set(
    two_runs: tuple[Trained, Trained],
) -> None:
    """What keeps the example a quick first run: scikit-learn's bundled 1797 8x8 digits, nothing
    downloaded (how long it takes is for benchmarks/, not a test)."""
    for trained in two_runs:
        found = re.search(r"(\d+) train / (\d+) validation images", trained.proc.stdout)
        assert found, trained.proc.stdout
        assert int(found.group(1)) + int(found.group(2)) == 1797


def test_model_and_confusion_matrix_are_artifacts(
    two_runs: tuple[Trained, Trained], client: MlflowClient, tmp_path: Path
) -> None:
    import torch
    from digits_cnn.model import HParams, load_checkpoint
    from digits_cnn.png import PNG_SIGNATURE

    run_id = two_runs[0].run_id
    assert {a.path for a in client.list_artifacts(run_id)} == {"model.pt", "confusion_matrix.png"}
    png = Path(client.download_artifacts(run_id, "confusion_matrix.png", str(tmp_path)))
    assert png.read_bytes()[:8] == PNG_SIGNATURE == b"\x89PNG\r\n\x1a\n"
    model_file = Path(client.download_artifacts(run_id, "model.pt", str(tmp_path)))
    _, hp = load_checkpoint(model_file, torch.device("cpu"))
    assert hp == HParams(conv_size=CONV)


def test_device_and_params_are_recorded(
    two_runs: tuple[Trained, Trained], client: MlflowClient
) -> None:
    run = client.get_run(two_runs[0].run_id)
    used = "cuda" if gpu() else "cpu"
    assert run.data.tags["device"].startswith(used)
    assert run.data.params["device_used"] == used
    assert run.data.params["device"] == "auto"
    assert run.data.params["lr"] == "0.001"
    assert run.data.params["conv_size"] == str(CONV)
    assert f"training on {used}" in two_runs[0].proc.stdout


def test_validate_logs_the_accuracy_of_a_saved_model(
    two_runs: tuple[Trained, Trained], client: MlflowClient, store: Store, tmp_path: Path
) -> None:
    trained = two_runs[0].run_id
    model_file = Path(client.download_artifacts(trained, "model.pt", str(tmp_path)))
    proc = run_script(
        "validate.py", ["--model-path", str(model_file), "--seed", str(SEED)], tmp_path, store.env()
    )
    run = client.get_run(run_id_of(proc))
    # Same weights, same split, eval mode: exactly the accuracy of the last epoch.
    final = client.get_run(trained).data.metrics
    assert run.data.metrics["val_accuracy"] == final["val_accuracy"]
    assert run.data.metrics["val_loss"] == pytest.approx(final["val_loss"], rel=1e-6)
    assert run.data.params["device_used"] == ("cuda" if gpu() else "cpu")
    assert "device" in run.data.tags
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"confusion_matrix.png"}
    assert f"val_accuracy={final['val_accuracy']:.4f}" in proc.stdout


def test_validate_downloads_a_runs_uri(
    two_runs: tuple[Trained, Trained], client: MlflowClient, store: Store, tmp_path: Path
) -> None:
    uri = f"runs:/{two_runs[0].run_id}/model.pt"
    proc = run_script(
        "validate.py", ["--model-path", uri, "--seed", str(SEED)], tmp_path, store.env()
    )
    final = client.get_run(two_runs[0].run_id).data.metrics["val_accuracy"]
    assert client.get_run(run_id_of(proc)).data.metrics["val_accuracy"] == final


def test_validate_refuses_a_file_that_is_not_a_model(store: Store, tmp_path: Path) -> None:
    bogus = tmp_path / "model.pt"
    bogus.write_text("not a model")
    proc = run_script("validate.py", ["--model-path", str(bogus)], tmp_path, store.env())
    assert proc.returncode == 2
    assert "is not a model file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_train_logs_into_the_run_the_runner_created(
    store: Store, client: MlflowClient, tmp_path: Path
) -> None:
    exp_id = client.create_experiment("runner-made")
    run_id = client.create_run(exp_id).info.run_id
    # The runner logs declared params as the user typed them; train.py must not fight that.
    client.log_param(run_id, "lr", "1e-3")
    client.log_param(run_id, "epochs", "1")
    proc = run_script(
        "train.py",
        ["--epochs", "1", "--lr", "1e-3"],
        tmp_path,
        store.env(MLFLOW_RUN_ID=run_id, MLFLOW_EXPERIMENT_ID=exp_id),
    )
    assert run_id_of(proc) == run_id
    assert [r.info.run_id for r in client.search_runs([exp_id])] == [run_id]
    run = client.get_run(run_id)
    assert run.data.params["lr"] == "1e-3"
    assert run.data.params["batch_size"] == "64"
    assert [s for s, _ in history(client, run_id, "val_accuracy")] == [1]
    assert {a.path for a in client.list_artifacts(run_id)} == {"model.pt", "confusion_matrix.png"}


def test_cuda_without_a_gpu_exits_2_before_any_run(tmp_path: Path) -> None:
    if gpu():
        pytest.skip("this machine has a GPU")
    store = Store(tmp_path / "mlruns", (tmp_path / "mlruns").as_uri())
    proc = run_script("train.py", ["--device", "cuda", "--epochs", "1"], tmp_path, store.env())
    assert proc.returncode == 2
    assert "no CUDA GPU" in proc.stderr and "--device cpu" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not store.root.exists()


def test_run_by_hand_logs_to_mlruns_in_the_working_directory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proc = run_script("train.py", ["--epochs", "1"], tmp_path, {})
    run_id = run_id_of(proc)
    assert "logging to" in proc.stderr
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    assert [s for s, _ in history(client, run_id, "train_loss")] == [1]
