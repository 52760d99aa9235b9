"""Parts of the docker manager that need no engine: .dockerignore, -A options, container
settings, the build context digest, and the error when no engine answers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlproj._util.record import replace
from mlproj.envs.docker import args as docker_args
from mlproj.envs.docker import context as docker_context
from mlproj.envs.docker import ignore as docker_ignore
from mlproj.envs.docker import settings as docker_settings
from mlproj.envs.docker.manager import MANAGER
from mlproj.errors import EnvError
from mlproj.spec.model import Project
from tests.docker.conftest import SECRET, options, with_docker
from tests.helpers import run_cli, write_project


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        ("data", "data", True),
        ("data", "data/x/y.csv", True),  # a matched directory takes its contents along
        ("data", "src/data", False),  # anchored at the context root
        ("/data", "data/a", True),
        ("*.tmp", "a.tmp", True),
        ("*.tmp", "sub/a.tmp", False),  # * stays inside one segment
        ("**/*.tmp", "sub/deep/a.tmp", True),
        ("**/*.tmp", "a.tmp", True),
        ("sub/**", "sub/a/b", True),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[ab].txt", "b.txt", True),
        ("[!ab].txt", "b.txt", False),
        ("*.log\n!keep.log", "keep.log", False),
        ("*.log\n!keep.log", "other.log", True),
        ("!keep.log\n*.log", "keep.log", True),  # the last match wins
        ("# comment\n\n  spaced.txt  ", "spaced.txt", True),
        ("", "mlruns/0/meta.yaml", True),  # always out
        ("", "sub/.git/config", True),
        ("", "pkg/__pycache__/m.pyc", True),
        ("!mlruns", "mlruns/x", True),  # and no `!` line brings them back
        ("", "train.py", False),
    ],
)
def test_dockerignore_matching(patterns: str, path: str, excluded: bool) -> None:
    assert docker_ignore.parse(patterns).excluded(path) is excluded


def test_context_digest_follows_content_modes_and_base_but_not_ignored_files(
    tmp_path: Path,
) -> None:
    write_project(
        tmp_path, files={"a.py": "1", "sub/b.txt": "2", ".dockerignore": "skip/\n", "skip/x": "3"}
    )
    first = docker_context.collect(tmp_path, "base:1")
    paths = [e.path for e in first.entries]
    assert paths == [".dockerignore", "a.py", "sub", "sub/b.txt"]
    digest = first.digest("sha256:base")
    assert docker_context.collect(tmp_path, "base:1").digest("sha256:base") == digest
    (tmp_path / "skip" / "x").write_text("changed")
    assert docker_context.collect(tmp_path, "base:1").digest("sha256:base") == digest
    assert first.digest("sha256:other-base") != digest
    assert docker_context.collect(tmp_path, "base:2").digest("sha256:base") != digest
    (tmp_path / "a.py").chmod(0o755)
    assert docker_context.collect(tmp_path, "base:1").digest("sha256:base") != digest


def test_context_tar_has_the_dockerfile_and_the_code_under_code(tmp_path: Path) -> None:
    import io
    import tarfile

    write_project(tmp_path, files={"a.py": "print(1)", "Dockerfile": "FROM project-own"})
    (tmp_path / "link").symlink_to("a.py")
    context = docker_context.collect(tmp_path, "base:1")
    buffer = io.BytesIO()
    docker_context.write_tar(context, buffer)
    with tarfile.open(fileobj=buffer) as tar:
        names = tar.getnames()
        dockerfile = tar.extractfile("Dockerfile")
        assert dockerfile is not None
        assert dockerfile.read().decode().startswith("FROM base:1\n")
        assert tar.getmember("code/link").issym()
    assert names == ["Dockerfile", "code", "code/Dockerfile", "code/a.py", "code/link"]


def test_docker_args_map_to_sdk_keywords() -> None:
    parsed = docker_args.parse(
        [
            ("memory", "1g"),
            ("cpus", "1.5"),
            ("u", "1000:1000"),
            ("privileged", None),
            ("cap-add", "SYS_PTRACE"),
            ("cap_add", "NET_ADMIN"),
            ("ulimit", "nofile=1024:2048"),
            ("add-host", "db:10.0.0.1"),
            ("e", "A=1"),
            ("env", "B"),
            ("v", "/tmp:/tmp:ro"),
            ("network", "none"),
            ("gpus", "all"),
            ("shm-size", "1g"),
            ("t", None),
            ("--rm", None),
        ]
    )
    kwargs = dict(parsed.kwargs)
    ulimit = kwargs.pop("ulimits")[0]
    assert kwargs == {
        "mem_limit": "1g",
        "nano_cpus": 1_500_000_000,
        "user": "1000:1000",
        "privileged": True,
        "cap_add": ["SYS_PTRACE", "NET_ADMIN"],
        "extra_hosts": {"db": "10.0.0.1"},
    }
    assert (ulimit["Name"], ulimit["Soft"], ulimit["Hard"]) == ("nofile", 1024, 2048)
    assert parsed.env == ("A=1", "B")
    assert parsed.volumes == ("/tmp:/tmp:ro",)
    assert (parsed.network, parsed.gpus, parsed.shm_size) == ("none", "all", "1g")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([("no-such-option", "x")], "-A no-such-option is not a supported docker option"),
        ([("memory", None)], "-A memory needs a value"),
        ([("cpus", "many")], "not a valid value for cpus"),
        ([("privileged", "maybe")], "privileged is a flag"),
        ([("ulimit", "nofile")], "expected KEY=VALUE"),
    ],
)
def test_bad_docker_args_are_refused(args: list[tuple[str, str | None]], expected: str) -> None:
    with pytest.raises(EnvError) as caught:
        docker_args.parse(args)
    assert expected in caught.value.one_line()


def test_an_unknown_docker_arg_lists_what_is_supported() -> None:
    with pytest.raises(EnvError) as caught:
        docker_args.parse([("publish", "80:80")])
    assert caught.value.hint is not None
    assert "memory" in caught.value.hint and "volume" in caught.value.hint


def test_volumes_are_resolved_against_the_project(tmp_path: Path) -> None:
    resolve = docker_settings.resolve_volume
    assert resolve("./data:/data:ro", tmp_path, "v") == f"{tmp_path}/data:/data:ro"
    assert resolve("sub/x:/x", tmp_path, "v") == f"{tmp_path}/sub/x:/x"
    assert resolve("/abs:/abs", tmp_path, "v") == "/abs:/abs"
    assert resolve("named_vol:/cache", tmp_path, "v") == "named_vol:/cache"
    assert resolve("~/d:/d", tmp_path, "v") == f"{Path.home()}/d:/d"
    for bad in ("nocolon", "a:relative", "a:/b:ro:extra", ":/x"):
        with pytest.raises(EnvError):
            resolve(bad, tmp_path, "docker_env volumes")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///srv/mlruns", "/srv/mlruns"),
        ("/srv/mlruns", "/srv/mlruns"),
        ("sqlite:////srv/db/mlflow.db", "/srv/db"),
        ("http://127.0.0.1:5000", None),
        ("file://host/share", None),
        ("", None),
    ],
)
def test_local_tracking_stores_are_found(uri: str, expected: str | None) -> None:
    found = docker_settings.local_store_dir(uri)
    assert (str(found) if found else None) == expected


def test_gpu_requests() -> None:
    (every,) = docker_settings.device_requests("all")
    assert (every["Count"], every["Capabilities"]) == (-1, [["gpu"]])
    assert docker_settings.device_requests("2")[0]["Count"] == 2
    assert docker_settings.device_requests("device=0,1")[0]["DeviceIDs"] == ["0", "1"]
    with pytest.raises(EnvError):
        docker_settings.device_requests("lots")


def test_container_settings_env_mounts_and_precedence(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = {
        "MLFLOW_TRACKING_URI": "file:///srv/mlruns",
        "MLFLOW_RUN_ID": "r1",
        "MLPROJ_TEST_SECRET": SECRET,
        "HOME": "/root",
        "AWS_SECRET_ACCESS_KEY": "not-passed",
    }
    decl = with_docker(project, gpus="1")
    settings = docker_settings.settings(
        decl,
        options(docker_args=(("e", "GREETING=from -A"),), gpus="all"),
        "img:1",
        mount_code=True,
        env_source=source,
    )
    assert dict(settings.env) == {
        "MLFLOW_TRACKING_URI": "file:///srv/mlruns",
        "MLFLOW_RUN_ID": "r1",
        "PYTHONUNBUFFERED": "1",
        "GREETING": "from -A",  # -A env wins over the MLproject
        "MLPROJ_TEST_SECRET": SECRET,
    }
    assert settings.binds == (
        f"{project.directory}/data:/data:ro",
        f"{project.directory}:/mlflow/projects/code:ro",
        "/srv/mlruns:/srv/mlruns:rw",
    )
    assert settings.gpus == "all"  # the command line wins over docker_env.gpus
    assert settings.labels["mlproj.run-id"] == "r1"
    described = settings.describe()
    assert SECRET not in json.dumps(described) and SECRET not in repr(settings)
    assert described["environment"] == sorted(settings.env)
    kwargs = settings.create_kwargs(["bash", "-c", "true"])
    assert kwargs["init"] is True and kwargs["working_dir"] == "/mlflow/projects/code"
    assert kwargs["network_mode"] == "none"


def test_no_engine_is_one_line_naming_the_socket(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    with pytest.raises(EnvError) as caught:
        MANAGER.prepare(project, options())
    message = caught.value.one_line()
    assert f"unix://{socket}" in message and "dockerd" in message and "\n" not in message
    plan = MANAGER.plan(project, options())  # a dry run still shows the settings
    assert f"unix://{socket}" in plan["engine_error"]
    assert plan["container"]["environment"] == [
        "GREETING",
        "MLPROJ_TEST_SECRET",
        "PYTHONUNBUFFERED",
    ]


def test_cli_dry_run_without_an_engine_shows_names_not_values(
    project_dir: Path, tmp_path: Path
) -> None:
    env = {
        "DOCKER_HOST": f"unix://{tmp_path}/none.sock",
        "MLPROJ_TEST_SECRET": SECRET,
    }
    result = run_cli(["run", str(project_dir), "--dry-run", "--json"], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    plan = json.loads(result.stdout)["env"]
    assert plan["manager"] == "docker" and "MLPROJ_TEST_SECRET" in plan["container"]["environment"]


def test_dry_run_reports_a_missing_host_variable_instead_of_failing(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLPROJ_TEST_SECRET", raising=False)
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    result = run_cli(["run", str(project_dir), "--dry-run", "--json"], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["env"]
    assert "MLPROJ_TEST_SECRET" in plan["container_error"]
    assert "container" not in plan


def test_cli_run_without_an_engine_fails_in_one_line(project_dir: Path, tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock", "MLPROJ_TEST_SECRET": "x"}
    result = run_cli(["run", str(project_dir)], cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert f"no Docker engine answers at unix://{tmp_path}/none.sock" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.path.isdir(tmp_path / "mlruns")  # the run exists, and ended (not left RUNNING)
    metas = list((tmp_path / "mlruns").glob("*/*/meta.yaml"))
    assert metas and "status: 4" in metas[0].read_text()  # FAILED in MLflow's enum


@pytest.mark.parametrize(
    ("name", "directory", "expected"),
    [
        ("Docker Test", "/p/x", "docker-test"),
        (None, "/p/My Project_2", "my-project-2"),  # MLflow refuses a docker project without name
        ("--", "/p/x", "project"),
        ("ünï.cøde", "/p/x", "n-c-de"),
    ],
)
def test_image_names_are_valid_repository_names(
    project: Project, name: str | None, directory: str, expected: str
) -> None:
    from mlproj.envs.docker.image import project_name

    named = replace(project, name=name, directory=Path(directory))
    assert project_name(named) == expected
