"""`mlproj run` end to end with the local environment manager and the default file store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_project
from tests.run.conftest import mlflow_client, only_run

GREETER = """
    name: greeter
    entry_points:
      main:
        parameters:
          name: string
          greeting: {type: string, default: hello}
          times: {type: int, default: 1}
        command: "python greet.py {greeting} {name} {times}"
      fail:
        command: "python -c 'import sys; print(\\"bad\\", file=sys.stderr); sys.exit(3)'"
"""
GREET_PY = """
    import sys
    greeting, name, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for _ in range(times):
        print(f"{greeting}, {name}!")
"""


def _project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", GREETER, {"greet.py": GREET_PY})


def test_run_records_params_tags_status_and_logs(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = run_cli(
        [
            "run",
            str(proj),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            "name=big world",
            "-P",
            "times=2",
            "-P",
            "extra=x y",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("hello, big world!") == 2
    run = only_run(store)
    assert run.info.status == "FINISHED"
    assert run.info.end_time is not None
    # values as the user gave them, no shell quotes; defaults and extras included
    assert run.data.params == {
        "name": "big world",
        "greeting": "hello",
        "times": "2",
        "extra": "x y",
    }
    tags = run.data.tags
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.project.entryPoint"] == "main"
    assert tags["mlflow.project.backend"] == "local"
    assert tags["mlflow.user"]
    assert tags["mlproj.command"].startswith("mlproj run")
    client = mlflow_client(store)
    local = Path(client.download_artifacts(run.info.run_id, "logs", str(tmp_path / "dl")))
    assert (local / "stdout.txt").read_text().count("hello, big world!") == 2


def test_failing_command_ends_failed_with_its_exit_code(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = run_cli(
        ["run", str(proj), "-e", "fail", "--env-manager", "local", "--tracking-uri", str(store)]
    )
    assert result.returncode == 3
    assert "bad" in result.stderr
    run = only_run(store)
    assert run.info.status == "FAILED"


def test_invalid_params_create_no_run(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = run_cli(
        [
            "run",
            str(proj),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            "times=many",
        ]
    )
    assert result.returncode == 1
    assert "times" in result.stderr and "many" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_cli(["run", str(proj), "--env-manager", "local", "--tracking-uri", str(store)])
    assert missing.returncode == 1
    assert "name" in missing.stderr
    assert not list(store.glob("*/*/meta.yaml"))


def test_bad_p_syntax_is_a_usage_error(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = run_cli(["run", str(proj), "--tracking-uri", str(store), "-P", "name"])
    assert result.returncode == 2
    assert "Use -P name=value" in result.stderr


@pytest.mark.slow  # the entry point imports mlflow (seconds)
def test_child_logs_metrics_into_the_same_run(tmp_path: Path, store: Path) -> None:
    proj = write_project(
        tmp_path / "proj",
        """
        entry_points:
          main:
            parameters: {alpha: {type: float, default: 0.5}}
            command: "python train.py {alpha}"
        """,
        {
            "train.py": """
            import sys, mlflow
            with mlflow.start_run():
                for step in range(3):
                    mlflow.log_metric("loss", float(sys.argv[1]) / (step + 1), step=step)
                mlflow.log_param("inner", "yes")
            """
        },
    )
    result = run_cli(
        [
            "run",
            str(proj),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            "alpha=0.9",
        ]
    )
    assert result.returncode == 0, result.stderr
    run = only_run(store)
    assert run.info.status == "FINISHED"
    assert run.data.params["alpha"] == "0.9" and run.data.params["inner"] == "yes"
    history = mlflow_client(store).get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]
    assert history[0].value == 0.9


@pytest.mark.slow  # the entry point imports mlflow (seconds)
def test_the_exit_code_decides_over_a_status_the_child_set(tmp_path: Path, store: Path) -> None:
    """As in `mlflow run`: the child ended its run KILLED and exited 0, so the run is FINISHED
    (tests/run/test_run_status.py runs the other cases of the corpus's status_cases)."""
    proj = write_project(
        tmp_path / "proj",
        'entry_points:\n  main:\n    command: "python child.py"\n',
        {
            "child.py": """
            import mlflow
            mlflow.start_run()
            mlflow.end_run(status="KILLED")
            """
        },
    )
    result = run_cli(["run", str(proj), "--env-manager", "local", "--tracking-uri", str(store)])
    assert result.returncode == 0, result.stderr
    assert only_run(store).info.status == "FINISHED"


def test_relative_tracking_uri_reaches_the_child_as_absolute(tmp_path: Path) -> None:
    proj = write_project(
        tmp_path / "proj",
        'entry_points:\n  main:\n    command: "python show_uri.py"\n',
        {"show_uri.py": "import os; print(os.environ['MLFLOW_TRACKING_URI'])\n"},
    )
    result = run_cli(
        ["run", "proj", "--env-manager", "local"],
        cwd=tmp_path,
        env={"MLFLOW_TRACKING_URI": "./runs-here"},
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip().splitlines()[-1]
    assert printed == (tmp_path / "runs-here").as_uri()
    assert not (proj / "runs-here").exists()
    assert list((tmp_path / "runs-here").glob("0/*/meta.yaml"))


def test_default_store_is_mlruns_in_the_current_directory(tmp_path: Path) -> None:
    _project(tmp_path)
    result = run_cli(["run", "proj", "--env-manager", "local", "-P", "name=x"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert only_run(tmp_path / "mlruns").info.status == "FINISHED"


def test_dry_run_shows_the_command_and_records_nothing(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = run_cli(
        [
            "run",
            str(proj),
            "--dry-run",
            "--json",
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            "name=a b",
        ]
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["command"] == "python greet.py hello 'a b' 1"
    assert plan["entry_point"] == "main"
    assert plan["parameters"]["name"] == "a b"
    assert plan["env"]["manager"] == "local"
    assert not store.exists()


def test_experiment_by_name_is_created_and_reused(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    for _ in range(2):
        result = run_cli(
            [
                "run",
                str(proj),
                "--env-manager",
                "local",
                "--tracking-uri",
                str(store),
                "--experiment-name",
                "exp-a",
                "-P",
                "name=x",
                "--run-name",
                "named",
            ]
        )
        assert result.returncode == 0, result.stderr
    client = mlflow_client(store)
    experiment = client.get_experiment_by_name("exp-a")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    assert {r.info.run_name for r in runs} == {"named"}


def test_a_project_without_environment_runs_locally_with_a_note(tmp_path: Path) -> None:
    proj = write_project(tmp_path / "proj", 'entry_points:\n  main:\n    command: "echo hi"\n')
    result = run_cli(["run", str(proj), "--tracking-uri", str(tmp_path / "mlruns")])
    assert result.returncode == 0, result.stderr
    assert "declares no environment" in result.stderr
    assert only_run(tmp_path / "mlruns").data.tags["mlflow.project.env"] == "local"


@pytest.mark.parametrize("bad", ["../escape=1", "name=" + "x" * 6001])
def test_parameters_a_store_would_refuse_create_no_run(
    tmp_path: Path, store: Path, bad: str
) -> None:
    proj = _project(tmp_path)
    result = run_cli(
        [
            "run",
            str(proj),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            "name=a" if not bad.startswith("name=") else "x=1",
            "-P",
            bad,
        ]
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not list(store.glob("*/*/meta.yaml"))


SHOW_EXPERIMENT = """
    import os, mlflow
    print("NAME", os.environ.get("MLFLOW_EXPERIMENT_NAME"))
    with mlflow.start_run() as run:  # resumes the run mlproj created, in its experiment
        print("EXPERIMENT", run.info.experiment_id)
"""


@pytest.mark.slow  # the entry point imports mlflow (seconds); see the experiment test above
@pytest.mark.parametrize("cli_name", [None, "from-cli"])
def test_mlflow_experiment_name_reaches_the_child_naming_the_runs_experiment(
    tmp_path: Path, store: Path, cli_name: str | None
) -> None:
    proj = write_project(
        tmp_path / "proj",
        'entry_points:\n  main:\n    command: "python show.py"\n',
        {"show.py": SHOW_EXPERIMENT},
    )
    args = ["run", str(proj), "--env-manager", "local", "--tracking-uri", str(store)]
    if cli_name:
        args += ["--experiment-name", cli_name]
    result = run_cli(args, env={"MLFLOW_EXPERIMENT_NAME": "from-env"})
    assert result.returncode == 0, result.stderr
    expected = cli_name or "from-env"
    assert f"NAME {expected}\n" in result.stdout
    experiment = mlflow_client(store).get_experiment_by_name(expected)
    assert f"EXPERIMENT {experiment.experiment_id}\n" in result.stdout
