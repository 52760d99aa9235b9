"""The same Store checks for every store: the file store, a real MLflow server over REST, and
a sqlite database through the mlflow package."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlproj.errors import TrackingError
from mlproj.tracking.base import Metric, Store
from mlproj.tracking.lifecycle import finish_run, mark_status
from mlproj.tracking.stores.file import FileStore
from mlproj.tracking.stores.mlflow_db import MlflowDbStore
from mlproj.tracking.stores.rest import RestStore
from tests.helpers import now_ms

GENERATED_NAME = re.compile(r"[a-z]+-[a-z]+-\d{1,3}")


@pytest.fixture(scope="module")
def db_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowDbStore]:
    root = tmp_path_factory.mktemp("sqlite-store")
    # The default artifact root of a database store is ./mlruns of the cwd at creation.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        store = MlflowDbStore(f"sqlite:///{root / 'mlflow.db'}")
    yield store


@pytest.fixture(
    params=[
        "file",
        pytest.param("rest", marks=pytest.mark.slow),  # starts a real `mlflow server`
        pytest.param("sqlite", marks=pytest.mark.slow),  # mlflow creates the schema: seconds
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "file":
        return FileStore((tmp_path / "mlruns").as_uri())
    if request.param == "rest":
        return RestStore(request.getfixturevalue("server_url"))
    db: MlflowDbStore = request.getfixturevalue("db_store")
    return db


def new_run(store: Store, experiment: str | None = None, **tags: str) -> str:
    exp = store.resolve_experiment(experiment or f"exp-{uuid.uuid4().hex[:8]}", None)
    info = store.create_run(
        exp, user_id="alice", start_time=now_ms(), tags={"mlflow.user": "alice", **tags},
        run_name=None,
    )  # fmt: skip
    return info.run_id


def test_experiments_by_name_are_created_once(store: Store) -> None:
    name = f"exp-{uuid.uuid4().hex[:8]}"
    first = store.resolve_experiment(name, None)
    assert store.resolve_experiment(name, None) == first
    assert store.resolve_experiment(None, first) == first
    assert store.resolve_experiment(None, None) == "0"
    assert name in [e.name for e in store.list_experiments()]


def test_an_unknown_experiment_id_is_an_error(store: Store) -> None:
    with pytest.raises(TrackingError):
        store.resolve_experiment(None, "987654321")


def test_create_run_records_user_start_and_a_generated_name(store: Store) -> None:
    exp = store.resolve_experiment(f"exp-{uuid.uuid4().hex[:8]}", None)
    start = now_ms()
    info = store.create_run(exp, user_id="alice", start_time=start, tags={"k": "v"}, run_name=None)
    assert (info.status, info.user_id, info.start_time, info.end_time) == (
        "RUNNING", "alice", start, None,
    )  # fmt: skip
    assert GENERATED_NAME.fullmatch(info.run_name), info.run_name
    run = store.get_run(info.run_id)
    assert run.info.run_name == info.run_name
    assert run.tags["mlflow.runName"] == info.run_name
    assert run.tags["k"] == "v"
    assert run.info.experiment_id == exp


def test_setting_the_run_name_tag_renames_the_run(store: Store) -> None:
    exp = store.resolve_experiment(f"exp-{uuid.uuid4().hex[:8]}", None)
    info = store.create_run(exp, user_id="u", start_time=now_ms(), tags={}, run_name="first")
    assert store.get_run(info.run_id).info.run_name == "first"
    store.set_tags(info.run_id, {"mlflow.runName": "second"})
    assert store.get_run(info.run_id).info.run_name == "second"


def test_params_and_tags_round_trip_in_large_batches(store: Store) -> None:
    run_id = new_run(store)
    params = {f"group.p{i:03d}": f"value {i}" for i in range(250)}  # more than one batch
    params.update({"lr": "0.01", "nested/key": "a b", "text": "line one\nline two", "u": "é✓"})
    tags = {f"tag{i}": str(i) for i in range(150)}
    store.log_params(run_id, params)
    store.set_tags(run_id, tags)
    run = store.get_run(run_id)
    assert dict(run.params) == params
    assert {k: run.tags[k] for k in tags} == tags


def test_metrics_keep_history_and_report_the_latest_step(store: Store) -> None:
    run_id = new_run(store)
    t = now_ms()
    points = [Metric("loss", 1.0 / (step + 1), t + step, step) for step in range(5)]
    store.log_metrics(run_id, [*points, Metric("acc", 0.5, t, 0)])
    run = store.get_run(run_id)
    assert dict(run.metrics) == {"loss": 0.2, "acc": 0.5}
    history = store.metric_history(run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == [(p.step, p.value) for p in points]
    assert store.metric_history(run_id, "never-logged") == []


def test_set_terminated_records_status_and_end_time(store: Store) -> None:
    run_id = new_run(store)
    end = now_ms()
    store.set_terminated(run_id, "FAILED", end)
    info = store.get_run(run_id).info
    assert (info.status, info.end_time) == ("FAILED", end)
    with pytest.raises(TrackingError, match="not a terminal"):
        store.set_terminated(run_id, "DONE", end)  # type: ignore[arg-type]


def test_a_scheduled_run_starts_then_ends_as_mlflows_own_client_reads_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a Slurm submission does: created, SCHEDULED while queued, RUNNING once the node
    starts it, then ended; MLflow's client sees each status and no end time before the end."""
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(store.uri)
    run_id = new_run(store)
    seen = []
    for status in ("SCHEDULED", "RUNNING"):
        assert mark_status(store, run_id, status) == status
        ours, theirs = store.get_run(run_id).info, client.get_run(run_id).info
        seen.append((ours.status, ours.end_time, theirs.status, theirs.end_time))
    end = now_ms()
    assert finish_run(store, run_id, "FINISHED", end) == "FINISHED"
    assert seen == [("SCHEDULED", None, "SCHEDULED", None), ("RUNNING", None, "RUNNING", None)]
    assert (client.get_run(run_id).info.status, client.get_run(run_id).info.end_time) == (
        "FINISHED", end,
    )  # fmt: skip
    assert mark_status(store, run_id, "RUNNING") == "FINISHED"  # an end is final
    assert store.get_run(run_id).info.status == "FINISHED"
    with pytest.raises(TrackingError, match="ends a run"):
        store.set_status(run_id, "KILLED")


def test_search_runs_returns_every_run_of_the_experiments(store: Store) -> None:
    name = f"exp-{uuid.uuid4().hex[:8]}"
    ids = {new_run(store, name) for _ in range(3)}
    exp = store.resolve_experiment(name, None)
    store.log_params(sorted(ids)[0], {"lr": "0.1"})
    runs = store.search_runs([exp])
    assert {r.info.run_id for r in runs} == ids
    assert [r.params.get("lr") for r in runs if r.info.run_id == sorted(ids)[0]] == ["0.1"]


def test_artifacts_are_written_listed_and_read_back(store: Store, tmp_path: Path) -> None:
    run_id = new_run(store)
    store.write_artifact(run_id, "logs/stdout.txt", b"hello\n")
    local = tmp_path / "model.bin"
    local.write_bytes(bytes(range(256)))
    store.log_artifact(run_id, local, "data")
    store.log_artifact(run_id, local)
    assert store.list_artifacts(run_id) == ["data/model.bin", "logs/stdout.txt", "model.bin"]
    assert store.list_artifacts(run_id, "logs") == ["logs/stdout.txt"]
    assert store.read_artifact(run_id, "logs/stdout.txt") == b"hello\n"
    assert store.read_artifact(run_id, "data/model.bin") == bytes(range(256))
    with pytest.raises(TrackingError, match="no artifact"):
        store.read_artifact(run_id, "logs/stderr.txt")


def test_an_unknown_run_is_a_tracking_error(store: Store) -> None:
    with pytest.raises(TrackingError):
        store.get_run(uuid.uuid4().hex)


def test_child_env_names_the_store(store: Store) -> None:
    assert store.child_env()["MLFLOW_TRACKING_URI"] == store.uri
