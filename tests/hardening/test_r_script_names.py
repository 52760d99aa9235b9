"""Item 1: an `.R` script name is data, never shell or R code, whatever characters it holds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlproj.spec import get_entry_point, load_project

# a shell function stands in for Rscript: bash itself parses the line, R is not needed
PRINT_ARGS = 'Rscript() { printf "%s\\n" "$@"; }; '

HOSTILE = [
    "$(touch PWNED).R",
    "`touch PWNED`.R",
    'say "hi".R',
    "it's.R",
    "back\\slash.R",
    "a b $HOME.R",
    "new\nline.R",
]


def _r_unquote(expression: str) -> str:
    """The file name an R single-quoted string literal holds."""
    prefix, suffix = "mlflow::mlflow_source('", "')"
    assert expression.startswith(prefix) and expression.endswith(suffix), expression
    body, out, i = expression[len(prefix) : -len(suffix)], [], 0
    while i < len(body):
        if body[i] == "\\":
            i += 1
        elif body[i] == "'":
            raise AssertionError(f"unescaped quote ends the R string early: {expression}")
        out.append(body[i])
        i += 1
    return "".join(out)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_r_name_is_passed_as_data(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("print(1)\n")
    project = load_project(tmp_path)
    command = get_entry_point(project, name).command
    done = subprocess.run(
        ["bash", "-c", PRINT_ARGS + command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert not (tmp_path / "PWNED").exists()
    assert done.returncode == 0, done.stderr
    args = done.stdout.split("\n")
    expression = "\n".join(args[1:-2])  # -e EXPR --args, newline-split
    assert args[0] == "-e" and args[-2] == "--args"
    assert _r_unquote(expression) == name


def test_plain_r_name_keeps_mlflows_text(tmp_path: Path) -> None:
    (tmp_path / "train.R").write_text("print(1)\n")
    command = get_entry_point(load_project(tmp_path), "train.R").command
    assert command == "Rscript -e \"mlflow::mlflow_source('train.R')\" --args"
