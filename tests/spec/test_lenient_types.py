"""Type checks that do not break real projects, and messages that say what a declaration means.

A parameter whose own default breaks its type (MLflow's BertNewsClassification example declares
`devices: {type: int, default: "auto"}`) is treated as untyped; a mismatching -P value of a
typed parameter says how to pass it anyway; `{type:int, default:1}` (no spaces) is explained.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.helpers import write_project

BERT_LIKE = """\
name: bert-like
entry_points:
  main:
    parameters:
      max_epochs: {type: int, default: 5}
      devices: {type: int, default: "auto"}
    command: "python news_classifier.py --max_epochs {max_epochs} --devices {devices}"
"""


def _dry(proj: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = run_cli(["run", str(proj), "--dry-run", "--env-manager", "local", *args], env=env)
    return result.returncode, result.stdout, result.stderr


def test_a_default_that_breaks_its_type_makes_the_parameter_untyped(tmp_path: Path) -> None:
    proj = write_project(tmp_path / "p", files={"MLproject": BERT_LIKE, "news_classifier.py": ""})
    validated = run_cli(["validate", str(proj)])
    assert validated.returncode == 0
    assert "default 'auto' of int parameter 'devices' is not a whole number" in validated.stdout
    assert "treated as untyped (any -P value is passed through" in validated.stdout
    code, out, err = _dry(proj, "-P", "devices=auto")
    assert code == 0, err
    assert "--devices auto" in out
    code, _, err = _dry(proj, "-P", "devices=gpu0")  # any value, as MLflow passes it
    assert code == 0, err


@pytest.mark.parametrize(
    ("extra", "env"),
    [
        (["--no-type-check"], None),
        ([], {"MLPROJ_NO_TYPE_CHECK": "1"}),
    ],
    ids=["flag", "variable"],
)
def test_a_mismatching_value_says_how_to_pass_it_anyway(
    tmp_path: Path, extra: list[str], env: dict[str, str] | None
) -> None:
    proj = write_project(tmp_path / "p", files={"MLproject": BERT_LIKE, "news_classifier.py": ""})
    code, _, err = _dry(proj, "-P", "max_epochs=all")
    assert code == 1
    assert "invalid value 'all' for int parameter 'max_epochs': not a whole number" in err
    assert "to pass it anyway: --no-type-check, or MLPROJ_NO_TYPE_CHECK=1" in err
    code, out, err = _dry(proj, "-P", "max_epochs=all", *extra, env=env)
    assert code == 0, err
    assert "--max_epochs all" in out


GLUED = """\
entry_points:
  main:
    parameters:
      epochs: {type:int, default:1}
    command: "python train.py --epochs {epochs}"
"""


def test_glued_type_and_default_state_the_consequence_and_run_points_at_it(
    tmp_path: Path,
) -> None:
    proj = write_project(tmp_path / "p", files={"MLproject": GLUED, "train.py": ""})
    validated = run_cli(["validate", str(proj)])
    assert validated.returncode == 0
    assert (
        "'default:1' is read as one key because there is no space after ':'; the parameter is "
        "therefore required and untyped; write 'default: 1'" in validated.stdout
    )
    code, _, err = _dry(proj)
    assert code == 1
    assert "No value given for missing parameters: 'epochs'" in err
    assert (
        "'epochs': it is required and untyped because its declaration has no space after "
        "':' (`mlproj validate` shows where)" in err
    )


@pytest.mark.parametrize("text", ["{}\n", "name: x\n", "entry_points: {}\n"])
def test_an_mlproject_without_entry_points_is_not_valid(tmp_path: Path, text: str) -> None:
    proj = write_project(tmp_path / "p", files={"MLproject": text, "train.py": ""})
    validated = run_cli(["validate", str(proj)])
    assert validated.returncode == 1
    assert "declares no entry points" in validated.stdout
    assert "invalid" in validated.stderr
    code, _, err = _dry(proj, "-e", "train.py")  # scripts still run, as under MLflow
    assert code == 0, err
