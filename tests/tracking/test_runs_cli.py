"""`mlproj runs ...` as a user types it, on a file store with known runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlproj.tracking.base import Metric, RunStatus
from mlproj.tracking.stores.file import FileStore
from mlproj.tracking.stores.rest import RestStore
from tests.helpers import run_cli

T0 = 1_790_000_000_000


@dataclass(frozen=True)
class Populated:
    root: Path
    store: FileStore
    ids: dict[str, str]  # run name -> run id

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(["runs", *args, "--tracking-uri", self.store.uri], timeout=120)


def add_run(
    store: FileStore, exp: str, name: str, start: int, params: dict[str, str],
    acc: list[float], status: RunStatus | None,
) -> str:  # fmt: skip
    info = store.create_run(exp, user_id="ann", start_time=start, tags={}, run_name=name)
    store.log_params(info.run_id, params)
    store.log_metrics(info.run_id, [Metric("acc", v, start + i, i) for i, v in enumerate(acc)])
    if status:
        store.set_terminated(info.run_id, status, start + 65_000)
    return info.run_id


@pytest.fixture
def populated(tmp_path: Path) -> Populated:
    store = FileStore((tmp_path / "mlruns").as_uri())
    main = store.resolve_experiment("main", None)
    other = store.resolve_experiment("other", None)
    ids = {
        "base": add_run(store, main, "base", T0, {"lr": "0.1", "opt": "adam"}, [0.5, 0.8],
                        "FINISHED"),
        "wide": add_run(store, main, "wide", T0 + 1000, {"lr": "0.01", "opt": "adam"},
                        [0.6, 0.9, 0.85], "FINISHED"),
        "broken": add_run(store, main, "broken", T0 + 2000, {"lr": "0.001", "opt": "sgd"}, [],
                          "FAILED"),
        "elsewhere": add_run(store, other, "elsewhere", T0 + 3000, {}, [], None),
    }  # fmt: skip
    store.write_artifact(ids["base"], "logs/stdout.txt", b"training base\n")
    store.write_artifact(ids["base"], "logs/stderr.txt", b"warn\n")
    return Populated(tmp_path, store, ids)


def names_in(stdout: str) -> list[str]:
    return [line.split()[1] for line in stdout.splitlines()[1:]]


def test_list_shows_every_experiments_runs_newest_first(populated: Populated) -> None:
    done = populated.cli("list")
    assert done.returncode == 0, done.stderr
    assert names_in(done.stdout) == ["elsewhere", "broken", "wide", "base"]
    header = done.stdout.splitlines()[0].split()
    assert header[:5] == ["RUN", "ID", "NAME", "STATUS", "STARTED"]
    assert "EXPERIMENT" in header and "metrics.acc" in header and "params.lr" in header


def test_list_filters_sorts_and_prints_json(populated: Populated) -> None:
    done = populated.cli(
        "list", "--experiment", "main", "--filter", "params.lr > 0.005 and status = 'FINISHED'",
        "--sort", "-metrics.acc", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["run_name"] for r in runs] == ["wide", "base"]
    assert runs[0]["params"] == {"lr": "0.01", "opt": "adam"}
    assert runs[0]["metrics"] == {"acc": 0.85}
    assert runs[0]["experiment_name"] == "main"


def test_list_limit_says_how_many_were_left_out(populated: Populated) -> None:
    done = populated.cli("list", "--limit", "1")
    assert names_in(done.stdout) == ["elsewhere"]
    assert "showing 1 of 4 runs" in done.stderr


def test_a_bad_filter_is_a_one_line_usage_error(populated: Populated) -> None:
    done = populated.cli("list", "--filter", "params.lr >> 1")
    assert done.returncode == 2
    assert done.stderr.startswith("mlproj: error: bad filter 'params.lr >> 1'")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_an_unknown_experiment_is_an_error_that_lists_the_known_ones(populated: Populated) -> None:
    done = populated.cli("list", "--experiment", "nope")
    assert done.returncode == 1
    assert "no experiment named or numbered 'nope'" in done.stderr and "main (" in done.stderr


def test_list_uses_mlflow_tracking_uri_then_the_local_mlruns(populated: Populated) -> None:
    by_env = run_cli(["runs", "list"], env={"MLFLOW_TRACKING_URI": populated.store.uri})
    assert names_in(by_env.stdout)[0] == "elsewhere", by_env.stderr
    by_cwd = run_cli(["runs", "list"], cwd=populated.root)
    assert names_in(by_cwd.stdout) == names_in(by_env.stdout)


def test_show_takes_an_id_prefix_and_prints_everything(populated: Populated) -> None:
    run_id = populated.ids["base"]
    done = populated.cli("show", run_id[:8])
    assert done.returncode == 0, done.stderr
    for text in (run_id, "FINISHED", "main", "lr", "0.1", "acc", "0.8", "logs/stdout.txt"):
        assert text in done.stdout
    data = json.loads(populated.cli("show", run_id, "--json").stdout)
    assert data["params"] == {"lr": "0.1", "opt": "adam"}
    assert data["artifacts"] == ["logs/stderr.txt", "logs/stdout.txt"]


def test_compare_marks_the_params_that_differ(populated: Populated) -> None:
    done = populated.cli("compare", populated.ids["base"], populated.ids["wide"])
    assert done.returncode == 0, done.stderr
    rows = {line[2:].split()[0]: line for line in done.stdout.splitlines() if line[2:].strip()}
    assert rows["params.lr"].startswith("* ")
    assert rows["params.opt"].startswith("  ")
    assert rows["metrics.acc"].split()[1:] == ["0.8", "0.85"]
    data = json.loads(
        populated.cli("compare", populated.ids["base"], populated.ids["wide"], "--json").stdout
    )
    assert data["differing_params"] == ["lr"]
    assert data["metrics"]["acc"][populated.ids["wide"]] == {"latest": 0.85, "min": 0.6, "max": 0.9}


def test_logs_prints_the_saved_output(populated: Populated) -> None:
    both = populated.cli("logs", populated.ids["base"])
    assert both.stdout == "==> stdout <==\ntraining base\n==> stderr <==\nwarn\n"
    only = populated.cli("logs", populated.ids["base"], "--stream", "stderr")
    assert only.stdout == "warn\n"
    missing = populated.cli("logs", populated.ids["wide"])
    assert missing.returncode == 1 and "has no saved output" in missing.stderr


def test_wait_exits_0_only_for_finished_runs(populated: Populated) -> None:
    finished = populated.cli("wait", populated.ids["base"])
    assert (finished.returncode, finished.stdout) == (0, "FINISHED\n")
    failed = populated.cli("wait", populated.ids["broken"])
    assert (failed.returncode, failed.stdout) == (1, "FAILED\n")
    running = populated.cli("wait", populated.ids["elsewhere"], "--timeout", "0.3")
    assert (running.returncode, running.stdout) == (1, "RUNNING\n")
    assert "still RUNNING after 0.3s" in running.stderr


def test_wait_returns_when_the_run_ends(populated: Populated) -> None:
    argv = [sys.executable, "-m", "mlproj", "runs", "wait", populated.ids["elsewhere"],
            "--tracking-uri", populated.store.uri, "--timeout", "60"]  # fmt: skip
    waiter = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert waiter.poll() is None  # still waiting
        populated.store.set_terminated(populated.ids["elsewhere"], "FINISHED", T0 + 9000)
        out, err = waiter.communicate(timeout=30)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    assert (waiter.returncode, out) == (0, "FINISHED\n"), err


@pytest.mark.slow  # starts a real `mlflow server` (seconds)
def test_the_commands_work_against_a_tracking_server(server_url: str) -> None:
    store = RestStore(server_url)
    exp = store.resolve_experiment("cli on a server", None)
    info = store.create_run(exp, user_id="ann", start_time=T0, tags={}, run_name="served")
    store.log_params(info.run_id, {"lr": "0.5"})
    store.write_artifact(info.run_id, "logs/stdout.txt", b"served output\n")
    store.set_terminated(info.run_id, "FINISHED", T0 + 10)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(["runs", *args, "--tracking-uri", server_url], timeout=120)

    listed = cli("list", "-x", "cli on a server", "--filter", "params.lr >= 0.5", "--json")
    assert [r["run_name"] for r in json.loads(listed.stdout)] == ["served"], listed.stderr
    assert cli("logs", info.run_id[:10], "--stream", "stdout").stdout == "served output\n"
    assert json.loads(cli("show", info.run_id, "--json").stdout)["artifacts"] == ["logs/stdout.txt"]


def test_a_filter_on_a_metric_no_run_has_names_the_metrics_there_are(
    populated: Populated,
) -> None:
    result = populated.cli("list", "--filter", "metrics.val_acc > 0.6")
    assert result.returncode == 0
    assert "no runs found in" in result.stderr
    assert "no run has the metric 'val_acc'; metrics recorded: acc" in result.stderr
    params = populated.cli("list", "--filter", "params.learning_rate = '0.1'")
    assert "no run has the parameter 'learning_rate'; params recorded: lr, opt" in params.stderr


def test_the_runs_table_fits_the_terminal_width(populated: Populated) -> None:
    wide = run_cli(["runs", "list", "--tracking-uri", populated.store.uri], env={"COLUMNS": "300"})
    assert "params.lr" in wide.stdout.splitlines()[0]
    narrow = run_cli(["runs", "list", "--tracking-uri", populated.store.uri], env={"COLUMNS": "70"})
    lines = narrow.stdout.splitlines()
    assert all(len(line) <= 70 for line in lines), lines
    assert lines[0].split()[:2] == ["RUN", "ID"] and "params.lr" not in lines[0]
    assert "more column" in lines[-1] and "--json" in lines[-1]
