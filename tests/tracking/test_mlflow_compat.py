"""The real mlflow package and mlproj's stores see the same runs, both ways."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlproj.tracking import run_child_env
from mlproj.tracking.base import Metric, Store
from mlproj.tracking.stores.file import FileStore
from mlproj.tracking.stores.rest import RestStore
from tests.helpers import now_ms

CHILD = """
import mlflow
with mlflow.start_run() as run:
    mlflow.log_param("from_child", "yes")
    mlflow.log_metric("acc", 0.25, step=1)
    mlflow.log_metric("acc", 0.75, step=2)
    mlflow.set_tag("child", "1")
print(run.info.run_id)
"""


def finished_run(store: Store, experiment: str) -> str:
    exp = store.resolve_experiment(experiment, None)
    info = store.create_run(
        exp, user_id="alice", start_time=now_ms(),
        tags={"mlflow.user": "alice", "mlflow.source.type": "PROJECT"}, run_name=None,
    )  # fmt: skip
    store.log_params(info.run_id, {"lr": "0.01", "a/b": "x y"})
    t = now_ms()
    store.log_metrics(info.run_id, [Metric("loss", 0.5, t, 0), Metric("loss", 0.25, t, 1)])
    store.write_artifact(info.run_id, "logs/stdout.txt", b"out\n")
    store.set_terminated(info.run_id, "FINISHED", now_ms())
    return info.run_id


@pytest.mark.usefixtures("allow_file_store")
def test_mlflow_reads_runs_that_the_file_store_wrote(file_store: FileStore) -> None:
    import mlflow
    from mlflow import MlflowClient

    run_id = finished_run(file_store, "written by mlproj")
    client = MlflowClient(tracking_uri=file_store.uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.user_id == "alice"
    assert run.data.params == {"lr": "0.01", "a/b": "x y"}
    assert run.data.tags["mlflow.source.type"] == "PROJECT"
    assert run.data.tags["mlflow.runName"] == run.info.run_name
    assert run.data.metrics == {"loss": 0.25}
    assert [f.path for f in client.list_artifacts(run_id, "logs")] == ["logs/stdout.txt"]

    mlflow.set_tracking_uri(file_store.uri)
    found = mlflow.search_runs(experiment_names=["written by mlproj"], output_format="list")
    assert [r.info.run_id for r in found] == [run_id]
    assert found[0].data.params["lr"] == "0.01"
    default = client.get_experiment("0")
    assert default.name == "Default"


@pytest.mark.usefixtures("allow_file_store")
def test_the_file_store_reads_what_mlflow_wrote(file_store: FileStore) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric as MlflowMetric
    from mlflow.entities import Param, RunTag

    client = MlflowClient(tracking_uri=file_store.uri)
    exp = client.create_experiment("written by mlflow")
    run = client.create_run(exp, tags={"mlflow.user": "bob"}, run_name="theirs")
    client.log_batch(
        run.info.run_id, metrics=[MlflowMetric("m", 1.5, 1, 3), MlflowMetric("m", 2.5, 2, 1)],
        params=[Param("p", "1")], tags=[RunTag("t", "v")],
    )  # fmt: skip
    client.set_terminated(run.info.run_id, "KILLED")

    ours = file_store.get_run(run.info.run_id)
    info = ours.info
    assert (info.run_name, info.status, info.experiment_id) == ("theirs", "KILLED", exp)
    assert dict(ours.params) == {"p": "1"}
    assert ours.tags["t"] == "v"
    assert dict(ours.metrics) == {"m": 1.5}  # MLflow's latest: the highest step
    assert [(m.step, m.value) for m in file_store.metric_history(run.info.run_id, "m")] == [
        (3, 1.5), (1, 2.5),
    ]  # fmt: skip
    assert "written by mlflow" in [e.name for e in file_store.list_experiments()]


@pytest.mark.usefixtures("allow_file_store")
def test_meta_yaml_files_have_the_keys_mlflow_writes(file_store: FileStore) -> None:
    from mlflow import MlflowClient

    ours = finished_run(file_store, "ours")
    client = MlflowClient(tracking_uri=file_store.uri)
    theirs = client.create_run(client.create_experiment("theirs")).info
    client.set_terminated(theirs.run_id, "FINISHED")
    root = Path(file_store.root)

    def meta(*parts: str) -> dict[str, object]:
        loaded: dict[str, object] = yaml.safe_load((root.joinpath(*parts, "meta.yaml")).read_text())
        return loaded

    exp_ours = file_store.resolve_experiment("ours", None)
    run_ours, run_theirs = meta(exp_ours, ours), meta(theirs.experiment_id, theirs.run_id)
    assert sorted(run_ours) == sorted(run_theirs)
    assert run_ours["status"] == run_theirs["status"] == 3
    assert run_ours["experiment_id"] == exp_ours and len(exp_ours) == 18
    assert sorted(meta(exp_ours)) == sorted(meta(theirs.experiment_id))
    assert meta("0")["name"] == "Default"
    assert (root / ".trash").is_dir()
    assert (root / exp_ours / ours / "params" / "lr").read_bytes() == b"0.01"  # no newline


def run_child(env: dict[str, str], cwd: Path) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env={**clean, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def check_child_logged_into_the_run(store: Store, tmp_path: Path) -> None:
    exp = store.resolve_experiment("with a child", None)
    info = store.create_run(exp, user_id="alice", start_time=now_ms(), tags={}, run_name=None)
    store.log_params(info.run_id, {"from_parent": "yes"})
    elsewhere = tmp_path / "project"  # the child runs in another directory
    elsewhere.mkdir()
    assert run_child(run_child_env(store, info), elsewhere) == info.run_id
    run = store.get_run(info.run_id)
    assert dict(run.params) == {"from_parent": "yes", "from_child": "yes"}
    assert run.metrics["acc"] == 0.75
    assert run.tags["child"] == "1"
    assert run.info.status == "FINISHED"
    assert not (elsewhere / "mlruns").exists()


@pytest.mark.slow  # the child imports mlflow (seconds)
def test_a_child_process_logs_into_our_file_store_run(tmp_path: Path) -> None:
    store = FileStore((tmp_path / "mlruns").as_uri())
    check_child_logged_into_the_run(store, tmp_path)


@pytest.mark.slow  # starts a real `mlflow server` (seconds)
def test_a_child_process_logs_into_our_run_on_a_server(server_url: str, tmp_path: Path) -> None:
    check_child_logged_into_the_run(RestStore(server_url), tmp_path)
