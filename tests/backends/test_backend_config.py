"""-c/--backend-config forms, the Slurm keys, the tracking-reach check and slurmstepd's notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlproj.backends.config import parse_backend_config
from mlproj.backends.reach import reach_problem
from mlproj.backends.slurm.commands import stepd_kill_notice
from mlproj.backends.slurm.config import parse_config
from mlproj.errors import UsageError


def test_files_json_and_pairs_merge_later_wins(tmp_path: Path) -> None:
    (tmp_path / "slurm.yaml").write_text("partition: gpu\ntime: '2:00:00'\n")
    (tmp_path / "k.json").write_text('{"mem": "8G", "partition": "cpu"}')
    config = parse_backend_config(
        ["slurm.yaml", "k.json", '{"cpus": 4}', "sbatch_args=--qos high"], tmp_path
    )
    assert config == {
        "partition": "cpu",
        "time": "2:00:00",
        "mem": "8G",
        "cpus": 4,
        "sbatch_args": "--qos high",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("missing.json", "does not exist"),
        ("{not json", "invalid backend config JSON"),
        ("partition", "not a config file, JSON object or key=value"),
        ("bad.yaml", "bad.yaml:2: invalid YAML"),
        ("list.json", "must be a mapping"),
    ],
)
def test_bad_backend_config_is_one_clear_line(tmp_path: Path, value: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text("a: 1\n  b: [\n")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        parse_backend_config([value], tmp_path)


def test_slurm_keys_become_sbatch_directives() -> None:
    config = parse_config(
        {
            "partition": "gpu",
            "time": "1-02:00:00",
            "gpus": "a100:2",
            "mem": "8G",
            "cpus": 4,
            "account": "proj-1",
            "sbatch_args": "--qos high --exclusive",
        }
    )
    assert dict(config.directives) == {
        "--partition": "gpu",
        "--time": "1-02:00:00",
        "--gpus": "a100:2",
        "--mem": "8G",
        "--cpus-per-task": "4",
        "--account": "proj-1",
    }
    assert config.sbatch_args == ("--qos", "high", "--exclusive")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"partiton": "gpu"}, "unknown Slurm backend config key 'partiton'"),
        ({"time": "two hours"}, "bad value time='two hours'"),
        ({"mem": "8 GB"}, "bad value mem='8 GB'"),
        ({"sbatch_args": "--comment 'open"}, "sbatch_args"),
        ({"grace": "soon"}, "grace='soon' is not seconds"),
    ],
)
def test_bad_slurm_config(raw: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_config(raw)


HERE = {"login1", "localhost"}


@pytest.mark.parametrize(
    ("uri", "nodes", "refused"),
    [
        ("file:///tmp/mlruns", ["login1"], False),  # the only node is this host
        ("file:///tmp/mlruns", ["node1", "node2"], True),
        ("/dev/shm/mlruns", ["node1"], True),
        ("file:///home/me/mlruns", ["node1"], False),
        ("sqlite:////tmp/mlflow.db", ["node1"], True),
        ("http://127.0.0.1:5000", ["node1"], True),
        ("http://localhost:5000", ["login1"], False),
        ("http://tracking.lab:5000", ["node1"], False),
        ("postgresql://db/mlflow", ["node1"], False),
    ],
)
def test_tracking_reach(uri: str, nodes: list[str], refused: bool) -> None:
    assert (reach_problem(uri, nodes, HERE) is not None) == refused


def test_slurmstepd_notices() -> None:
    # the lines slurmstepd writes to a job's stderr before it signals the job
    text = "training\nslurmstepd-vm: error: *** JOB 7 ON vm CANCELLED AT 2026-11-30T15:52:41 ***\n"
    assert stepd_kill_notice(text, "7") == (
        "CANCELLED",
        "JOB 7 ON vm CANCELLED AT 2026-11-30T15:52:41",
    )
    limit = (
        "slurmstepd: error: *** JOB 8 ON n1 CANCELLED AT 2026-11-30T16:00:00 DUE TO TIME LIMIT ***"
    )
    assert stepd_kill_notice(limit, "8") is not None
    assert stepd_kill_notice(limit, "8")[0] == "TIMEOUT"  # type: ignore[index]
    assert stepd_kill_notice(limit, "9") is None
    assert stepd_kill_notice("all fine\n", "8") is None
