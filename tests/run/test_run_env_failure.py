"""An environment that cannot be built ends the run FAILED (never left RUNNING), exit 1."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli, write_project
from tests.run.conftest import only_run


def test_env_build_failure_marks_the_run_failed(tmp_path: Path) -> None:
    proj = write_project(
        tmp_path / "proj",
        'python_env: python_env.yaml\nentry_points:\n  main:\n    command: "echo never"\n',
        {"python_env.yaml": 'python: "2.1"\ndependencies: []\n'},
    )
    store = tmp_path / "mlruns"
    result = run_cli(["run", str(proj), "--tracking-uri", str(store)])
    assert result.returncode == 1
    assert "2.1" in result.stderr
    assert "Traceback" not in result.stderr and "never" not in result.stdout
    run = only_run(store)
    assert run.info.status == "FAILED"
    assert run.info.end_time is not None
    assert "2.1" in run.data.tags["mlproj.error"]
