"""--run-id (MLflow's: record into an existing run) and the -b/-c command line."""

from __future__ import annotations

from pathlib import Path

from mlproj.tracking import open_store
from tests.conftest import run_cli


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: p\nentry_points:\n  main:\n    parameters:\n      a: {type: int, default: 1}\n"
        "    command: echo ran with {a}\n"
    )
    return project


def test_run_id_records_into_the_existing_run(tmp_path: Path) -> None:
    store_path = tmp_path / "mlruns"
    store = open_store(str(store_path))
    info = store.create_run("0", user_id="u", start_time=1, tags={"origin": "made"}, run_name="x")
    args = ["run", str(_project(tmp_path)), "--env-manager", "local", "-P", "a=3"]
    done = run_cli([*args, "--run-id", info.run_id, "--tracking-uri", str(store_path)])
    assert done.returncode == 0, done.stderr
    assert "ran with 3" in done.stdout
    run = store.get_run(info.run_id)
    assert run.info.status == "FINISHED"
    assert run.params == {"a": "3"}
    assert run.tags["origin"] == "made"
    assert len(store.search_runs(["0"])) == 1  # no second run

    again = run_cli([*args, "--run-id", info.run_id, "--tracking-uri", str(store_path)])
    assert again.returncode == 1
    assert f"--run-id {info.run_id}: the run already ended (FINISHED)" in again.stderr


def test_run_id_of_a_scheduled_run_runs_it_as_running(tmp_path: Path) -> None:
    """A run queued by someone else (SCHEDULED) is RUNNING while mlproj runs it, as MLflow's
    own client sees it in meta.yaml (status 1 = RUNNING, 2 = SCHEDULED), then FINISHED."""
    store_path = tmp_path / "mlruns"
    store = open_store(str(store_path))
    info = store.create_run("0", user_id="u", start_time=1, tags={}, run_name="queued")
    store.set_status(info.run_id, "SCHEDULED")
    project = tmp_path / "project"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: p\nentry_points:\n  main:\n    parameters:\n      meta: string\n"
        "    command: grep '^status:' {meta}\n"
    )
    meta = store_path / "0" / info.run_id / "meta.yaml"
    assert "status: 2" in meta.read_text()
    args = ["run", str(project), "--env-manager", "local", "-P", f"meta={meta}"]
    done = run_cli([*args, "--run-id", info.run_id, "--tracking-uri", str(store_path)])
    assert done.returncode == 0, done.stderr
    assert "status: 1" in done.stdout
    assert store.get_run(info.run_id).info.status == "FINISHED"


def test_backend_command_line_errors(tmp_path: Path) -> None:
    project = str(_project(tmp_path))
    done = run_cli(["run", project, "-b", "yarn"])
    assert done.returncode == 2 and "'yarn' is not one of" in done.stderr
    done = run_cli(["run", project, "-c", "partition=gpu"])
    assert done.returncode == 2
    assert "the local backend takes no backend config" in done.stderr
    done = run_cli(["run", project, "-b", "kubernetes"])
    assert done.returncode == 2
    assert "Specify 'backend_config' when using kubernetes mode." in done.stderr
    done = run_cli(["run", project, "-b", "slurm", "-c", "time=soon"])
    assert done.returncode == 2 and "bad value time='soon'" in done.stderr
    assert not (tmp_path / "mlruns").exists()  # nothing recorded before the checks pass
