"""Faults that must not leave a run RUNNING, a process alive or output lost: a full disk,
mlproj SIGKILLed, background jobs and escaped daemons, a tracking server that goes away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlproj.tracking.stores.file import FileStore
from tests.conftest import run_cli
from tests.helpers import alive, wait_until
from tests.run.conftest import write_project
from tests.run.faults import RestartableServer, fill, small_disk


def _only_run(store: Path) -> object:
    runs = FileStore(store.as_uri()).search_runs(["0"])
    assert len(runs) == 1, runs
    return runs[0]


def _no_half_runs(store: Path) -> None:
    """Every directory that looks like a run or an experiment has its meta.yaml."""
    for exp in store.iterdir() if store.is_dir() else []:
        if exp.name.startswith(".") or not exp.is_dir():
            continue
        assert (exp / "meta.yaml").is_file(), exp
        for run in exp.iterdir():
            if run.is_dir() and not run.name.startswith(".") and run.name != "tags":
                assert (run / "meta.yaml").is_file(), run
    leftovers = [p for p in store.rglob("*.creating")] if store.is_dir() else []
    assert not leftovers, leftovers


# -- a full disk --------------------------------------------------------------------------

LOUD = """
    entry_points:
      main:
        command: "python loud.py"
"""
LOUD_PY = """
    import sys
    line = "x" * 99 + "\\n"
    for _ in range(5000):  # 500 KB
        sys.stdout.write(line)
    sys.stdout.flush()
    print("the end", file=sys.stderr)
"""


def test_a_full_disk_truncates_the_logs_but_not_the_run(tmp_path: Path) -> None:
    proj = write_project(tmp_path / "proj", LOUD, {"loud.py": LOUD_PY})
    with small_disk(tmp_path / "disk", "256k") as disk:
        store = disk / "mlruns"
        done = run_cli(["run", str(proj), "--env-manager", "local", "--tracking-uri", str(store)])
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("x" * 99) == 5000  # the terminal still got everything
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
        warning = [ln for ln in done.stderr.splitlines() if "saved logs stop" in ln]
        assert len(warning) == 1 and "No space left on device" in warning[0], done.stderr
        run = _only_run(store)
        assert run.info.status == "FINISHED"  # type: ignore[attr-defined]
        assert "No space left" in run.tags["mlproj.logs_truncated"]  # type: ignore[attr-defined]
        logs = Path(run.info.artifact_uri[len("file://") :]) / "logs"  # type: ignore[attr-defined]
        assert not (logs / ".mlproj-reserve").exists()
        _no_half_runs(store)


def test_a_full_disk_at_run_creation_leaves_no_half_run(tmp_path: Path) -> None:
    proj = write_project(tmp_path / "proj", LOUD, {"loud.py": LOUD_PY})
    with small_disk(tmp_path / "disk", "256k") as disk:
        store = disk / "mlruns"
        first = run_cli(["run", str(proj), "-e", "main", "--env-manager", "local",
                         "--tracking-uri", str(store), "--dry-run"])  # fmt: skip
        assert first.returncode == 0, first.stderr
        fill(disk)
        done = run_cli(["run", str(proj), "--env-manager", "local", "--tracking-uri", str(store)])
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "No space left on device" in lines[0], done.stderr
        _no_half_runs(store)


# -- mlproj itself SIGKILLed --------------------------------------------------------------

SLEEPER = """
    entry_points:
      main:
        command: "python sleeper.py"
"""
SLEEPER_PY = """
    import os, subprocess, sys, time
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open("pids.txt", "w") as f:
        f.write(f"{os.getpid()} {grandchild.pid}\\n")
    time.sleep(300)
"""


def _start_sleeper(tmp_path: Path, store: Path, *extra: str) -> tuple[subprocess.Popen[str], Path]:
    proj = write_project(tmp_path / "proj", SLEEPER, {"sleeper.py": SLEEPER_PY})
    mlproj = subprocess.Popen(
        [sys.executable, "-m", "mlproj", "run", str(proj), "--env-manager", "local",
         "--tracking-uri", str(store), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    pids = proj / "pids.txt"
    wait_until(
        lambda: pids.is_file() and pids.read_text().endswith("\n"),
        60,
        what="the entry point started",
    )
    return mlproj, pids


def test_sigkill_of_mlproj_takes_the_run_down_and_the_next_command_ends_it(
    tmp_path: Path,
) -> None:
    store = tmp_path / "mlruns"
    mlproj, pids = _start_sleeper(tmp_path, store)
    child, grandchild = (int(p) for p in pids.read_text().split())
    mlproj.kill()
    mlproj.communicate()
    wait_until(
        lambda: not alive(child) and not alive(grandchild), 15, what="the run's processes stopped"
    )
    assert _only_run(store).info.status == "RUNNING"  # type: ignore[attr-defined]

    listed = run_cli(["runs", "list", "--tracking-uri", str(store), "--json"])
    assert listed.returncode == 0, listed.stderr
    run = _only_run(store)
    assert run.info.status == "KILLED"  # type: ignore[attr-defined]
    reason = run.tags["mlproj.end_reason"]  # type: ignore[attr-defined]
    assert f"pid {mlproj.pid}" in reason and "gone" in reason


def test_sigkill_of_a_detached_supervisor_is_detected_by_runs_wait(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    proj = write_project(tmp_path / "proj", SLEEPER, {"sleeper.py": SLEEPER_PY})
    started = run_cli(["run", str(proj), "--env-manager", "local", "--tracking-uri",
                       str(store), "--detach"])  # fmt: skip
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    pids = proj / "pids.txt"
    wait_until(
        lambda: pids.is_file() and pids.read_text().endswith("\n"),
        60,
        what="the entry point started",
    )
    owner = _only_run(store).tags["mlproj.owner"]  # type: ignore[attr-defined]
    supervisor = int(owner.split(":")[0])
    assert alive(supervisor)
    os.kill(supervisor, signal.SIGKILL)
    waited = run_cli(["runs", "wait", run_id, "--tracking-uri", str(store), "--timeout", "30"])
    assert waited.stdout.strip() == "KILLED", waited.stderr
    assert waited.returncode == 1
    child, grandchild = (int(p) for p in pids.read_text().split())
    wait_until(
        lambda: not alive(child) and not alive(grandchild), 15, what="the run's processes stopped"
    )


def test_a_live_owner_is_not_taken_for_gone(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    mlproj, _pids = _start_sleeper(tmp_path, store)
    try:
        listed = run_cli(["runs", "list", "--tracking-uri", str(store), "-q"])
        assert listed.returncode == 0
        assert _only_run(store).info.status == "RUNNING"  # type: ignore[attr-defined]
    finally:
        mlproj.send_signal(signal.SIGTERM)
        mlproj.communicate(timeout=60)
    assert _only_run(store).info.status == "KILLED"  # type: ignore[attr-defined]


# -- what the entry point leaves behind -----------------------------------------------------

LEAVER = """
    entry_points:
      background: {command: "sleep 1000 & echo $! > bg.pid; echo started"}
      daemon: {command: "python daemon.py"}
"""
DAEMON_PY = """
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open("daemon.pid.tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename("daemon.pid.tmp", "daemon.pid")
            time.sleep(1000)
        os._exit(0)
    while not os.path.exists("daemon.pid"):
        time.sleep(0.01)
    print("daemon started")
"""


def test_background_jobs_are_stopped_when_the_entry_point_exits(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    proj = write_project(tmp_path / "proj", LEAVER, {"daemon.py": DAEMON_PY})
    done = run_cli(["run", str(proj), "-e", "background", "--env-manager", "local",
                    "--tracking-uri", str(store), "--grace", "2"])  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "left 1 background process(es) running: stopped them" in done.stderr
    assert not alive(int((proj / "bg.pid").read_text()))
    run = _only_run(store)
    assert run.info.status == "FINISHED"  # type: ignore[attr-defined]
    # orphaned when bash exited, it became our child (subreaper), but it never left the group
    assert "escaped" not in done.stderr
    assert "mlproj.escaped_processes" not in run.tags  # type: ignore[attr-defined]


@pytest.mark.slow  # 8 s on two cores; the fast lane stops leftovers in the group (above)
def test_a_daemon_that_escaped_the_group_is_recorded_and_stopped(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    proj = write_project(tmp_path / "proj", LEAVER, {"daemon.py": DAEMON_PY})
    done = run_cli(["run", str(proj), "-e", "daemon", "--env-manager", "local",
                    "--tracking-uri", str(store), "--grace", "2"])  # fmt: skip
    assert done.returncode == 0, done.stderr
    daemon = int((proj / "daemon.pid").read_text())
    assert not alive(daemon)
    assert "escaped the run's process group" in done.stderr
    run = _only_run(store)
    assert str(daemon) in run.tags["mlproj.escaped_processes"]  # type: ignore[attr-defined]


# -- the tracking server goes away --------------------------------------------------------

SLOW = """
    entry_points:
      main: {command: "python slow.py"}
"""
SLOW_PY = """
    import time
    for i in range(12):
        print("step", i, flush=True)
        time.sleep(0.5)
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RestartableServer]:
    srv = RestartableServer(tmp_path / "server")
    srv.start()
    yield srv
    srv.stop()


def _run_during_outage(
    tmp_path: Path, server: RestartableServer, retry_seconds: str, restart_after: float | None
) -> subprocess.CompletedProcess[str]:
    """Run a 6 s project against `server`; stop the server once the run has started; start it
    again `restart_after` seconds after the entry point's last line (never, if None)."""
    proj = write_project(tmp_path / "proj", SLOW, {"slow.py": SLOW_PY})
    env = dict(os.environ, MLPROJ_TRACKING_RETRY_SECONDS=retry_seconds)
    mlproj = subprocess.Popen(
        [sys.executable, "-m", "mlproj", "run", str(proj), "--env-manager", "local",
         "--tracking-uri", server.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert mlproj.stdout is not None
    lines: list[str] = []
    for line in mlproj.stdout:
        lines.append(line)
        if line.startswith("step 2"):
            server.stop()
        if line.startswith("step 11"):
            break
    if restart_after is not None:
        time.sleep(restart_after)
        server.start()
    out, err = mlproj.communicate(timeout=300)
    return subprocess.CompletedProcess(mlproj.args, mlproj.returncode, "".join(lines) + out, err)


def _server_run(server: RestartableServer) -> object:
    client = server.client()
    runs = client.search_runs(experiment_ids=["0"])  # type: ignore[attr-defined]
    assert len(runs) == 1
    return runs[0]


@pytest.mark.slow
def test_a_short_outage_is_retried_and_the_run_ends_on_the_server(
    tmp_path: Path, server: RestartableServer
) -> None:
    done = _run_during_outage(tmp_path, server, "120", restart_after=1.0)
    assert done.returncode == 0, done.stderr
    assert "retrying for up to 120 s" in done.stderr
    run = _server_run(server)
    assert run.info.status == "FINISHED"  # type: ignore[attr-defined]
    client = server.client()
    stdout = client.download_artifacts(run.info.run_id, "logs/stdout.txt", str(tmp_path))  # type: ignore[attr-defined]
    assert Path(stdout).read_text().count("step") == 12


@pytest.mark.slow
def test_a_long_outage_keeps_the_end_for_runs_sync(
    tmp_path: Path, server: RestartableServer, isolated_home: Path
) -> None:
    done = _run_during_outage(tmp_path, server, "1", restart_after=None)
    assert done.returncode == 0, done.stderr
    kept = [ln for ln in done.stderr.splitlines() if "mlproj runs sync" in ln]
    assert len(kept) == 1, done.stderr
    pending = list((isolated_home / "pending").iterdir())
    assert len(pending) == 1
    assert (pending[0] / "files" / "stdout.txt").read_text().count("step") == 12

    waiting = run_cli(["runs", "sync"])
    assert waiting.returncode == 1 and "still waiting" in waiting.stderr
    assert pending[0].exists()  # nothing deleted before the server has it

    server.start()
    synced = run_cli(["runs", "sync"])
    assert synced.returncode == 0, synced.stderr
    assert "1 run ending(s) delivered" in synced.stderr
    assert not pending[0].exists()
    run = _server_run(server)
    assert run.info.status == "FINISHED"  # type: ignore[attr-defined]
    client = server.client()
    stdout = client.download_artifacts(run.info.run_id, "logs/stdout.txt", str(tmp_path))  # type: ignore[attr-defined]
    assert Path(stdout).read_text().count("step") == 12
