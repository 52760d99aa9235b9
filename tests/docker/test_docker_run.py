"""The docker manager against a real engine: images, containers, mounts, env, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlproj.envs.docker.manager import MANAGER
from mlproj.errors import EnvError
from mlproj.proc import LaunchRequest
from mlproj.spec.model import Project
from mlproj.tracking import open_store, run_child_env
from tests.docker.conftest import (
    BASE_IMAGE,
    SECRET,
    Sink,
    containers_of,
    options,
    with_docker,
)
from tests.helpers import run_cli, wait_until

pytestmark = pytest.mark.docker


def launch(prepared: Any, command: str, run_id: str, **env: str) -> tuple[Any, Sink]:
    sink = Sink()
    child_env = {**os.environ, "MLFLOW_RUN_ID": run_id, **env}
    request = LaunchRequest(command, Path("/nonexistent"), child_env, sink)
    return prepared.launch(request), sink


def run_to_end(prepared: Any, command: str, run_id: str, **env: str) -> tuple[int, Sink]:
    execution, sink = launch(prepared, command, run_id, **env)
    try:
        code = execution.wait(timeout=120)
    finally:
        execution.close()
    assert code is not None, "the container did not finish"
    return code, sink


def test_code_in_the_container_logs_metrics_into_the_run(
    engine: Any, project: Project, tmp_path: Path, run_id: str
) -> None:
    store = open_store((tmp_path / "mlruns").as_uri())
    experiment = store.resolve_experiment(None, None)
    info = store.create_run(experiment, user_id="t", start_time=1, tags={}, run_name=None)
    prepared = MANAGER.prepare(project, options())
    env = run_child_env(store, info)

    code, sink = run_to_end(prepared, "python3 train.py --steps 3", run_id, **env)

    assert code == 0, sink.stderr
    assert "data: rows: 42" in sink.stdout  # the relative ./data volume, mounted read-only
    assert "cwd: /mlflow/projects/code" in sink.stdout
    history = store.metric_history(info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert store.get_run(info.run_id).tags["logged_from"] == "container"
    assert prepared.facts.tags()["mlflow.project.env"] == "docker"
    assert prepared.facts.tags()["mlflow.docker.image.uri"].startswith(f"mlproj-{project.name}:")
    assert prepared.facts.tags()["mlflow.docker.image.id"].startswith("sha256:")
    # what rebuilds the image elsewhere: the base by id, the build context by its hash
    assert prepared.facts.tags()["mlproj.docker.base_id"].startswith("sha256:")
    digest = prepared.facts.tags()["mlproj.docker.context_sha256"]
    assert prepared.facts.tags()["mlflow.docker.image.uri"].endswith(f":{digest[:12]}")
    assert containers_of(engine, info.run_id) == []


def test_environment_value_and_host_forms_and_nothing_else(
    engine: Any, project: Project, run_id: str
) -> None:
    prepared = MANAGER.prepare(project, options())
    code, sink = run_to_end(
        prepared, "python3 show_env.py", run_id, MLPROJ_HOST_ONLY="x", MLFLOW_EXPERIMENT_ID="7"
    )
    assert code == 0, sink.stderr
    lines = dict(line.split("=", 1) for line in sink.stdout.splitlines())
    assert lines["GREETING"] == "hello from the MLproject"
    import hashlib

    assert lines["SECRET_SHA256"] == hashlib.sha256(SECRET.encode()).hexdigest()
    # MLFLOW_* and the project's own variables pass; other host variables do not
    assert lines["NAMES"] == "MLFLOW_EXPERIMENT_ID,MLFLOW_RUN_ID,MLPROJ_TEST_SECRET"


def test_missing_host_variables_are_all_named_before_any_build(
    engine: Any, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLPROJ_TEST_SECRET")
    monkeypatch.delenv("MLPROJ_OTHER", raising=False)
    broken = with_docker(
        project, environment=(("MLPROJ_TEST_SECRET", None), ("MLPROJ_OTHER", None))
    )
    with pytest.raises(EnvError) as caught:
        MANAGER.prepare(broken, options())
    message = caught.value.one_line()
    assert "MLPROJ_TEST_SECRET, MLPROJ_OTHER" in message and "\n" not in message
    assert engine.images.list(name=f"mlproj-{project.name}") == []


def test_unchanged_project_reuses_its_image_and_a_change_rebuilds_it(
    engine: Any, project: Project, run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = MANAGER.prepare(project, options())
    assert "building docker image" in capsys.readouterr().err
    second = MANAGER.prepare(project, options())
    assert "building" not in capsys.readouterr().err  # no build: the same image, found by tag
    assert second.image.id == first.image.id and second.image.tag == first.image.tag
    assert not second.image.built

    (project.directory / "show_env.py").write_text('print("changed")\n')
    third = MANAGER.prepare(project, options())
    assert "building docker image" in capsys.readouterr().err
    assert third.image.tag != first.image.tag and third.image.id != first.image.id
    code, sink = run_to_end(third, "python3 show_env.py", run_id)
    assert (code, sink.stdout) == (0, "changed\n")


def test_dockerignore_mlruns_and_git_stay_out_of_the_image(
    engine: Any, project: Project, run_id: str
) -> None:
    root = project.directory
    (root / "mlruns" / "0").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "scratch.tmp").write_text("x")
    (root / "keep.txt").write_text("kept")
    prepared = MANAGER.prepare(project, options())
    code, sink = run_to_end(prepared, "ls -A; ls data", run_id)
    assert code == 0, sink.stderr
    listed = set(sink.stdout.split())
    assert {"MLproject", "train.py", "keep.txt", "data", "input.txt"} <= listed
    assert not listed & {"ignored", "mlruns", ".git", "scratch.tmp", "Dockerfile"}


def test_a_failing_command_propagates_its_exit_code(
    engine: Any, project: Project, run_id: str
) -> None:
    prepared = MANAGER.prepare(project, options())
    code, sink = run_to_end(prepared, "echo oops >&2; exit 7", run_id)
    assert code == 7
    assert sink.stderr == "oops\n"
    assert containers_of(engine, run_id) == []


def test_sigterm_stops_the_container_and_close_leaves_none(
    engine: Any, project: Project, run_id: str
) -> None:
    prepared = MANAGER.prepare(project, options())
    execution, sink = launch(prepared, "echo started; sleep 60", run_id)
    try:
        assert execution.wait(timeout=1.0) is None
        wait_until(lambda: "started" in sink.stdout, 20, what="the container printed 'started'")
        execution.send_signal(signal.SIGTERM)
        code = execution.wait(timeout=20)  # within the 60 s sleep: the signal ended it
        assert code == 128 + signal.SIGTERM
    finally:
        execution.close()
    assert containers_of(engine, run_id) == []


def test_kill_stops_a_command_that_ignores_sigterm(
    engine: Any, project: Project, run_id: str
) -> None:
    prepared = MANAGER.prepare(project, options())
    execution, sink = launch(prepared, "trap '' TERM; echo started; sleep 60 & wait", run_id)
    try:
        wait_until(lambda: "started" in sink.stdout, 20, what="the container printed 'started'")
        execution.send_signal(signal.SIGTERM)
        assert execution.wait(timeout=1.5) is None  # ignored
        execution.kill()
        assert execution.wait(timeout=20) == 137
        execution.kill()  # the runner kills again after a signal: harmless once stopped
    finally:
        execution.close()
        execution.close()  # idempotent
    assert containers_of(engine, run_id) == []


def test_keep_container_keeps_it(engine: Any, project: Project, run_id: str) -> None:
    prepared = MANAGER.prepare(project, options(keep_container=True))
    code, _ = run_to_end(prepared, "exit 0", run_id)
    kept = containers_of(engine, run_id)
    try:
        assert code == 0 and len(kept) == 1
    finally:
        for container in kept:
            container.remove(force=True)


def test_a_missing_base_image_is_one_clear_line(engine: Any, project: Project) -> None:
    missing = with_docker(project, image="mlproj-no-such-image:1")
    with pytest.raises(EnvError) as caught:
        MANAGER.prepare(missing, options())
    message = caught.value.one_line()
    assert "'mlproj-no-such-image:1'" in message and "\n" not in message


def test_no_build_mounts_the_project_read_only(
    engine: Any, project: Project, run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prepared = MANAGER.prepare(project, options(build_image=False))
    assert "building" not in capsys.readouterr().err
    assert prepared.facts.tags()["mlflow.docker.image.uri"] == BASE_IMAGE
    assert prepared.facts.tags()["mlproj.docker.code"] == "mounted-read-only"
    code, sink = run_to_end(prepared, "cat data/input.txt && touch new-file", run_id)
    assert code != 0
    assert "rows: 42" in sink.stdout
    assert "Read-only file system" in sink.stderr
    assert not (project.directory / "new-file").exists()
    assert engine.images.list(name=f"mlproj-{project.name}") == []


def test_a_secret_is_not_in_the_image_the_tags_or_the_plan(
    engine: Any, project: Project, run_id: str
) -> None:
    prepared = MANAGER.prepare(project, options())
    image = engine.images.get(prepared.image.id)
    history = engine.api.history(prepared.image.id)
    assert SECRET not in json.dumps(image.attrs) + json.dumps(history)
    assert SECRET not in json.dumps(dict(prepared.facts.tags()))
    plan = MANAGER.plan(project, options(docker_args=(("env", f"EXTRA={SECRET}"),)))
    assert SECRET not in json.dumps(plan)
    assert "MLPROJ_TEST_SECRET" in plan["container"]["environment"]
    assert "EXTRA" in plan["container"]["environment"]
    assert plan["image"] == {**plan["image"], "tag": prepared.image.tag, "action": "reuse"}


def test_plan_builds_nothing(engine: Any, project: Project) -> None:
    plan = MANAGER.plan(project, options())
    assert plan["image"]["action"] == "build" and plan["image"]["exists"] is False
    assert plan["base_image"]["present"] is True
    assert plan["container"]["network"] == "none"
    assert plan["container"]["volumes"] == [f"{project.directory}/data:/data:ro"]
    assert engine.images.list(name=f"mlproj-{project.name}") == []


def test_docker_args_reach_the_container(engine: Any, project: Project, run_id: str) -> None:
    args = (("memory", "96m"), ("e", "FROM_ARGS=yes"), ("cap-drop", "ALL"), ("t", None))
    prepared = MANAGER.prepare(project, options(docker_args=args, shm_size="32m"))
    execution, sink = launch(prepared, "echo $FROM_ARGS; df -m /dev/shm | tail -1", run_id)
    try:
        assert execution.wait(timeout=60) == 0, sink.stderr
        attrs = engine.api.inspect_container(execution.id)
    finally:
        execution.close()
    assert attrs["HostConfig"]["Memory"] == 96 * 1024 * 1024
    assert attrs["HostConfig"]["CapDrop"] == ["ALL"]
    assert attrs["HostConfig"]["Init"] is True
    assert sink.stdout.splitlines()[0] == "yes"
    assert sink.stdout.split()[2] == "32"  # /dev/shm size in MB


def test_a_gpu_request_on_an_engine_without_gpus_is_a_clear_error(
    engine: Any, project: Project, run_id: str
) -> None:
    if any("nvidia" in name for name in engine.info().get("Runtimes", {})):
        pytest.skip("this engine has an NVIDIA runtime")
    prepared = MANAGER.prepare(project, options(gpus="all"))
    with pytest.raises(EnvError) as caught:
        launch(prepared, "true", run_id)
    assert "GPUs (all)" in caught.value.one_line()
    assert containers_of(engine, run_id) == []


def test_an_image_without_bash_runs_the_command_with_sh(
    engine: Any, project: Project, run_id: str, tmp_path: Path
) -> None:
    import io

    dockerfile = f"FROM {BASE_IMAGE}\nRUN rm /usr/bin/bash\nLABEL mlproj.project={project.name}\n"
    tag = f"mlproj-{project.name}-nobash:1"
    engine.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    prepared = MANAGER.prepare(with_docker(project, image=tag), options())
    assert prepared.shell == "sh"
    code, sink = run_to_end(prepared, "echo $0; test -e /usr/bin/bash || echo no-bash", run_id)
    assert (code, sink.stdout) == (0, "sh\nno-bash\n")


@pytest.fixture
def cli_project(project_dir: Path, project: Project) -> Path:
    """The resource project under the unique name of `project` (its image is cleaned up)."""
    spec_file = project_dir / "MLproject"
    text = spec_file.read_text().replace("name: Docker Test", f"name: {project.name}")
    spec_file.write_text(text)
    return project_dir


def test_cli_run_records_the_run_and_keeps_secrets_out_of_its_records(
    engine: Any, cli_project: Path, tmp_path: Path
) -> None:
    result = run_cli(
        ["run", str(cli_project), "-P", "steps=2", "--network", "none"],
        cwd=tmp_path,
        env={"MLPROJ_TEST_SECRET": SECRET},
    )
    assert result.returncode == 0, result.stderr
    assert "data: rows: 42" in result.stdout
    (run,) = open_store((tmp_path / "mlruns").as_uri()).search_runs(["0"])
    assert run.info.status == "FINISHED"
    assert run.metrics == {"loss": 0.5}
    assert run.tags["mlflow.docker.image.uri"].startswith("mlproj-dtest-")
    assert run.tags["logged_from"] == "container"
    assert containers_of(engine, run.info.run_id) == []
    recorded = [p.read_bytes() for p in (tmp_path / "mlruns").rglob("*") if p.is_file()]
    assert not any(SECRET.encode() in data for data in recorded)
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.timeout(120)
def test_cli_sigterm_ends_the_run_killed_and_removes_the_container(
    engine: Any, cli_project: Path, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "mlproj", "run", str(cli_project), "-e", "sleep"]
    child = subprocess.Popen(
        [*argv, "--network", "none", "--grace", "5"],
        cwd=tmp_path,
        env={**os.environ, "MLPROJ_TEST_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the container has started
        assert line == b"sleeping\n"
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=60)  # waits, and closes the pipes
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode != 0
    (run,) = open_store((tmp_path / "mlruns").as_uri()).search_runs(["0"])
    assert run.info.status == "KILLED"
    assert containers_of(engine, run.info.run_id) == []
