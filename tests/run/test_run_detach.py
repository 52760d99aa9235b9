"""`mlproj run --detach` returns at once with the run id; `mlproj runs wait` follows it."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import run_cli
from tests.run.conftest import only_run, write_project


def test_detach_then_wait(tmp_path: Path) -> None:
    proj = write_project(
        tmp_path / "proj",
        'entry_points:\n  main:\n    command: "python slow.py"\n',
        {"slow.py": "import time; time.sleep(2); print('done sleeping')\n"},
    )
    store = tmp_path / "mlruns"
    started = time.monotonic()
    result = run_cli(["run", str(proj), "--detach", "--env-manager", "local",
                      "--tracking-uri", str(store)])
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    run_id = result.stdout.strip()
    assert len(run_id) == 32
    waited = run_cli(["runs", "wait", run_id, "--tracking-uri", str(store), "--timeout", "120"])
    assert waited.returncode == 0, waited.stderr
    run = only_run(store)
    assert run.info.status == "FINISHED"
    logs = run_cli(["runs", "logs", run_id, "--tracking-uri", str(store)])
    assert "done sleeping" in logs.stdout
