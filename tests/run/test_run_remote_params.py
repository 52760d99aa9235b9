"""Remote values of `path` parameters: `runs:/` artifacts of an earlier run and http(s) files
are downloaded for the run (MLflow does the same), and removed when it ends."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_project
from tests.run.conftest import mlflow_client

PRODUCER = """
    import os, mlflow
    os.makedirs("out/d/sub", exist_ok=True)
    open("out/data.txt", "w").write("rows: 3\\n")
    open("out/d/a.txt", "w").write("A")
    open("out/d/sub/b.txt", "w").write("B")
    with mlflow.start_run():
        mlflow.log_artifact("out/data.txt")
        mlflow.log_artifacts("out/d", artifact_path="d")
"""
CONSUMER = """
    import os, sys
    path = sys.argv[1]
    print("PATH", path)
    if os.path.isdir(path):
        for folder, _, files in sorted(os.walk(path)):
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(folder, name), path)
                print("FILE", rel, open(os.path.join(folder, name)).read())
    else:
        print("CONTENT", open(path).read().strip())
"""


def _projects(tmp_path: Path) -> tuple[Path, Path]:
    producer = write_project(
        tmp_path / "producer",
        'entry_points:\n  main:\n    command: "python produce.py"\n',
        {"produce.py": PRODUCER},
    )
    consumer = write_project(
        tmp_path / "consumer",
        "entry_points:\n  main:\n    parameters: {data: path}\n"
        '    command: "python consume.py {data}"\n',
        {"consume.py": CONSUMER},
    )
    return producer, consumer


def _run(consumer: Path, store: Path, value: str, *extra: str) -> tuple[str, str]:
    result = run_cli(
        [
            "run",
            str(consumer),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            f"data={value}",
            *extra,
        ]
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    path = next(line.split(" ", 1)[1] for line in lines if line.startswith("PATH "))
    return path, result.stdout


@pytest.mark.slow  # the producing entry point imports mlflow (seconds)
def test_runs_uri_of_a_file_and_of_a_directory(tmp_path: Path, store: Path) -> None:
    producer, consumer = _projects(tmp_path)
    made = run_cli(["run", str(producer), "--env-manager", "local", "--tracking-uri", str(store)])
    assert made.returncode == 0, made.stderr
    (source,) = mlflow_client(store).search_runs(["0"])
    run_id = source.info.run_id

    path, out = _run(consumer, store, f"runs:/{run_id}/data.txt")
    assert "CONTENT rows: 3" in out
    assert not Path(path).exists()  # removed once the run ended

    path, out = _run(consumer, store, f"runs:/{run_id}/d")
    assert Path(path).name == "d"
    assert "FILE a.txt A" in out and "FILE sub/b.txt B" in out

    runs = mlflow_client(store).search_runs(["0"], order_by=["attributes.start_time DESC"])
    assert runs[0].data.params["data"] == f"runs:/{run_id}/d"  # logged as typed


@pytest.mark.slow  # the producing entry point imports mlflow (seconds)
def test_a_missing_artifact_is_refused_before_a_run_exists(tmp_path: Path, store: Path) -> None:
    producer, consumer = _projects(tmp_path)
    assert (
        run_cli(
            ["run", str(producer), "--env-manager", "local", "--tracking-uri", str(store)]
        ).returncode
        == 0
    )
    (source,) = mlflow_client(store).search_runs(["0"])
    result = run_cli(
        [
            "run",
            str(consumer),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            f"data=runs:/{source.info.run_id}/nope.txt",
        ]
    )
    assert result.returncode == 1
    assert "nope.txt" in result.stderr and "Traceback" not in result.stderr
    assert len(mlflow_client(store).search_runs(["0"])) == 1


@pytest.fixture
def http_file(tmp_path: Path) -> Iterator[str]:
    served = tmp_path / "served"
    served.mkdir()
    (served / "table.csv").write_text("a,b\n1,2\n")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/table.csv"
    server.shutdown()
    server.server_close()


def test_http_value_is_downloaded_into_the_storage_dir(
    tmp_path: Path, store: Path, http_file: str
) -> None:
    _, consumer = _projects(tmp_path)
    storage = tmp_path / "storage"
    path, out = _run(consumer, store, http_file, "--storage-dir", str(storage))
    assert "CONTENT a,b\n1,2" in out
    assert Path(path).name == "table.csv" and str(storage) in path
    # the user asked for that directory: the download stays there, as with `mlflow run`
    assert Path(path).read_text() == "a,b\n1,2\n"


def test_without_storage_dir_downloads_go_to_a_temp_dir_removed_after(
    tmp_path: Path, store: Path, http_file: str
) -> None:
    _, consumer = _projects(tmp_path)
    path, out = _run(consumer, store, http_file)
    assert "CONTENT a,b\n1,2" in out
    assert Path(path).name == "table.csv" and not Path(path).exists()


def test_dry_run_downloads_nothing(tmp_path: Path, store: Path, http_file: str) -> None:
    _, consumer = _projects(tmp_path)
    result = run_cli(
        [
            "run",
            str(consumer),
            "--dry-run",
            "--json",
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "-P",
            f"data={http_file}",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["command"] == f"python consume.py {http_file}"
