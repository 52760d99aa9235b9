"""describe_project and `mlproj describe`: the documented JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

from mlproj.spec import describe_project, load_project
from tests.helpers import run_cli
from tests.spec.corpus import PROJECTS


def test_json_shape_for_a_docker_project() -> None:
    data = describe_project(load_project(PROJECTS / "docker_gpu"))
    assert data == {
        "name": "docker-example",
        "env": {
            "type": "docker",
            "image": "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
            "volumes": ["/tmp/mlproj-data:/data"],
            "environment": [["NEW_ENV_VAR", "new_var_value"], "VAR_TO_COPY_FROM_HOST_ENVIRONMENT"],
            "gpus": "all",
        },
        "entry_points": {
            "main": {
                "command": "python train.py --alpha {alpha} --l1-ratio {l1_ratio}",
                "parameters": {
                    "alpha": {"type": "float", "default": None},
                    "l1_ratio": {"type": "float", "default": 0.1},
                },
            },
        },
    }


def test_types_as_written_and_yaml_typed_defaults() -> None:
    data = describe_project(load_project(PROJECTS / "keras_mnist"))
    assert data["env"] == {"type": "conda", "file": str(PROJECTS / "keras_mnist" / "conda.yml")}
    params = data["entry_points"]["main"]["parameters"]
    assert params["learning_rate"] == {"type": "float", "default": "1e-3"}  # YAML 1.1
    assert params["dropout"] == {"type": "float", "default": 0.2}
    pl = describe_project(load_project(PROJECTS / "pytorch_lightning"))["entry_points"]["main"]
    assert pl["parameters"]["verbose"] == {"type": "boolean", "default": True}


def test_bare_project() -> None:
    assert describe_project(load_project(PROJECTS / "bare_scripts")) == {
        "name": None,
        "env": {"type": "local"},
        "entry_points": {},
    }


def test_cli_json_and_text() -> None:
    result = run_cli(["describe", "--json", str(PROJECTS / "multistep")])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data["entry_points"]) == [
        "load_raw_data",
        "etl_data",
        "als",
        "train_keras",
        "summarize",
        "main",
    ]
    text = run_cli(["describe", str(PROJECTS / "multistep")])
    assert text.returncode == 0
    assert "environment: conda (" in text.stdout
    assert "    ratings_csv    path  required" in text.stdout
    assert "    max_row_limit  int   default 100000" in text.stdout


def test_cli_refuses_a_missing_env_file(tmp_path: Path) -> None:
    root = tmp_path
    (root / "MLproject").write_text("python_env: env/python_env.yaml\n")
    result = run_cli(["describe", str(root)])
    assert result.returncode == 1
    assert (
        f"mlproj: error: {root}/MLproject:1:13: Project specified python_env file "
        f"{root}/env/python_env.yaml, but no such file was found."
    ) in result.stderr
