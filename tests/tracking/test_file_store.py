"""The file store's on-disk layout, status codes, validation and atomic writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml

from mlproj.errors import TrackingError
from mlproj.tracking.base import Metric, RunStatus
from mlproj.tracking.lifecycle import finish_run
from mlproj.tracking.stores.file import FileStore
from tests.helpers import now_ms


def make_run(store: FileStore, experiment: str = "exp") -> tuple[str, Path]:
    exp = store.resolve_experiment(experiment, None)
    info = store.create_run(exp, user_id="u", start_time=now_ms(), tags={}, run_name=None)
    return info.run_id, Path(store.root, exp, info.run_id)


def test_a_new_store_has_the_default_experiment_and_a_trash_folder(file_store: FileStore) -> None:
    assert file_store.resolve_experiment(None, None) == "0"
    root = Path(file_store.root)
    meta = yaml.safe_load((root / "0" / "meta.yaml").read_text())
    assert meta["name"] == "Default"
    assert meta["experiment_id"] == "0"
    assert meta["lifecycle_stage"] == "active"
    assert (root / ".trash").is_dir()


def test_reading_an_absent_store_creates_nothing(file_store: FileStore) -> None:
    assert file_store.list_experiments() == []
    assert not Path(file_store.root).exists()
    with pytest.raises(TrackingError, match="no experiment"):
        file_store.search_runs(["123"])


def test_a_run_directory_has_mlflows_folders(file_store: FileStore) -> None:
    run_id, run_dir = make_run(file_store)
    assert len(run_id) == 32 and int(run_id, 16) >= 0
    assert {p.name for p in run_dir.iterdir()} == {
        "meta.yaml", "metrics", "params", "tags", "artifacts",
    }  # fmt: skip
    meta = yaml.safe_load((run_dir / "meta.yaml").read_text())
    assert meta["status"] == 1
    assert meta["end_time"] is None
    assert meta["artifact_uri"] == (run_dir / "artifacts").as_uri()
    assert (run_dir / "tags" / "mlflow.runName").read_text() == meta["run_name"]


@pytest.mark.parametrize(("status", "code"), [("FINISHED", 3), ("FAILED", 4), ("KILLED", 5)])
def test_terminal_statuses_are_stored_as_mlflows_codes(
    file_store: FileStore, status: RunStatus, code: int
) -> None:
    run_id, run_dir = make_run(file_store)
    file_store.set_terminated(run_id, status, 12345)
    meta = yaml.safe_load((run_dir / "meta.yaml").read_text())
    assert (meta["status"], meta["end_time"]) == (code, 12345)
    assert file_store.get_run(run_id).info.status == status


def test_metric_lines_are_timestamp_value_step(file_store: FileStore) -> None:
    run_id, run_dir = make_run(file_store)
    nan = float("nan")
    points = [Metric("m", 0.5, 1000, 0), Metric("m", nan, 1001, 1), Metric("m", 2, 1002, 2)]
    file_store.log_metrics(run_id, points)
    assert (run_dir / "metrics" / "m").read_text() == "1000 0.5 0\n1001 nan 1\n1002 2.0 2\n"


def test_params_are_immutable(file_store: FileStore) -> None:
    run_id, _ = make_run(file_store)
    file_store.log_params(run_id, {"lr": "0.1"})
    file_store.log_params(run_id, {"lr": "0.1"})  # the same value again is fine
    with pytest.raises(TrackingError, match=r"already logged with value '0\.1'"):
        file_store.log_params(run_id, {"lr": "0.2"})


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/./b", "bad|char", "", "x/.."])
def test_keys_that_are_not_safe_paths_are_refused(file_store: FileStore, key: str) -> None:
    run_id, _ = make_run(file_store)
    with pytest.raises(TrackingError, match="invalid param name"):
        file_store.log_params(run_id, {key: "v"})


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b"])
def test_artifact_paths_cannot_leave_the_run(file_store: FileStore, path: str) -> None:
    run_id, _ = make_run(file_store)
    with pytest.raises(TrackingError, match="invalid artifact path"):
        file_store.write_artifact(run_id, path, b"x")


def test_runs_without_meta_yaml_are_not_runs_yet(file_store: FileStore) -> None:
    run_id, run_dir = make_run(file_store)
    half_made = run_dir.parent / ("f" * 32)
    (half_made / "params").mkdir(parents=True)
    assert [r.info.run_id for r in file_store.search_runs([run_dir.parent.name])] == [run_id]


@pytest.mark.usefixtures("allow_file_store")
def test_runs_deleted_by_mlflow_are_not_listed(file_store: FileStore) -> None:
    from mlflow import MlflowClient

    kept, run_dir = make_run(file_store)
    gone, _ = make_run(file_store)
    MlflowClient(tracking_uri=file_store.uri).delete_run(gone)
    assert [r.info.run_id for r in file_store.search_runs([run_dir.parent.name])] == [kept]


def test_readers_never_see_a_partly_written_file(file_store: FileStore) -> None:
    run_id, run_dir = make_run(file_store)
    first_name = file_store.get_run(run_id).info.run_name
    values = [("x" * 20000) + str(i) for i in range(2)]  # big enough to need several writes
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            file_store.set_tags(run_id, {"mlflow.runName": f"name-{i}", "big": values[i % 2]})
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    seen = 0
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            meta = yaml.safe_load((run_dir / "meta.yaml").read_text())
            assert meta["run_id"] == run_id and meta["run_name"].startswith(("name-", first_name))
            big = run_dir / "tags" / "big"
            if big.exists():
                assert big.read_text() in values
                seen += 1
    finally:
        stop.set()
        thread.join()
    assert seen > 0
    leftovers = [p for p in Path(file_store.root).rglob("*") if ".mlproj-tmp-" in p.name]
    assert leftovers == []


def test_concurrent_creators_of_an_experiment_agree_on_one(file_store: FileStore) -> None:
    results: list[str] = []

    def create() -> None:
        results.append(FileStore(file_store.uri).resolve_experiment("shared", None))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert [e.name for e in file_store.list_experiments()].count("shared") == 1


def test_a_deleted_experiment_name_is_not_silently_reused(
    file_store: FileStore, allow_file_store: None
) -> None:
    from mlflow import MlflowClient

    exp = file_store.resolve_experiment("old", None)
    MlflowClient(tracking_uri=file_store.uri).delete_experiment(exp)
    with pytest.raises(TrackingError, match="deleted state"):
        file_store.resolve_experiment("old", None)


def test_finish_run_never_overwrites_a_status_the_child_set(file_store: FileStore) -> None:
    ended_by_child, _ = make_run(file_store)
    file_store.set_terminated(ended_by_child, "KILLED", 5)
    assert finish_run(file_store, ended_by_child, "FINISHED", 9) == "KILLED"
    assert file_store.get_run(ended_by_child).info.end_time == 5
    still_running, _ = make_run(file_store)
    assert finish_run(file_store, still_running, "FAILED", 9) == "FAILED"
    info = file_store.get_run(still_running).info
    assert (info.status, info.end_time) == ("FAILED", 9)
