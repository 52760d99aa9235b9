"""`mlproj validate` / `describe` / `--help` stay light: no git, docker, rattler, requests or
mlflow in the process (they would cost hundreds of milliseconds at every start)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.spec.corpus import PROJECTS

HEAVY = ("git", "docker", "rattler", "requests", "mlflow", "urllib3", "jsonschema", "conda_lock")
PROBE = """
import json, runpy, sys
sys.argv = ["mlproj", *sys.argv[1:]]
try:
    runpy.run_module("mlproj", run_name="__main__")
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded_modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = result.stderr.rindex("MODULES ")
    return set(json.loads(result.stderr[marker + len("MODULES ") :]))


@pytest.mark.parametrize(
    "args",
    [
        ("validate", str(PROJECTS / "multistep")),
        ("validate", "--strict", "--json", str(PROJECTS / "docker_gpu")),
        ("describe", "--json", str(PROJECTS / "pytorch_lightning")),
        ("--help",),
    ],
)
def test_no_heavy_imports(args: tuple[str, ...]) -> None:
    modules = loaded_modules(*args)
    assert "mlproj" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_validate_actually_ran_in_the_probe() -> None:
    assert "mlproj.spec.validate" in loaded_modules("validate", str(PROJECTS / "multistep"))
