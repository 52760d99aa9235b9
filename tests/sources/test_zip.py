"""Zip projects: local files, file:// and http(s) URLs, unpacked once into the cache, and
refused when unsafe (path traversal, symlinks out, zip bombs, damaged archives)."""

from __future__ import annotations

import base64
import os
import re
import socket
import stat
import threading
import zipfile
from collections.abc import Iterator, Mapping
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mlproj.errors import SourceError
from mlproj.paths import cache_root
from mlproj.sources import fetch_project, release
from mlproj.sources.zip import unpack as unzip_module
from tests.helpers import run_cli
from tests.run.conftest import only_run
from tests.sources.workers import run_together

MLPROJECT = "name: zipped\nentry_points:\n  main:\n    command: python hello.py\n"
PROJECT = {"MLproject": MLPROJECT, "hello.py": "print('hello from the zip')\n"}
CREDENTIALS = "alice:s3cret-token"


def make_zip(
    path: Path,
    files: Mapping[str, str | bytes],
    *,
    links: dict[str, str] | None = None,
    modes: dict[str, int] | None = None,
) -> Path:
    """A zip with `files` (name -> content), `links` (name -> symlink target) and unix modes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6))
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | (modes or {}).get(name, 0o644)) << 16
            zf.writestr(info, content, zipfile.ZIP_DEFLATED)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def nested(prefix: str, files: dict[str, str]) -> dict[str, str | bytes]:
    return {f"{prefix}/{name}": text for name, text in files.items()}


def copies() -> list[Path]:
    root = cache_root() / "zips"
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


# --- local zips ---------------------------------------------------------------------------


def test_local_zip_relative_to_cwd(tmp_path: Path) -> None:
    make_zip(tmp_path / "proj.zip", PROJECT)
    project = fetch_project("proj.zip", cwd=tmp_path)
    assert (project.directory / "hello.py").read_text() == PROJECT["hello.py"]
    assert project.directory.parent == cache_root() / "zips"
    assert project.source_name == str(tmp_path / "proj.zip")
    assert project.git is None and project.version is None


def test_file_uri_zip_with_subdirectory(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "multi.zip", {**nested("a", PROJECT), **nested("b", PROJECT)})
    project = fetch_project(f"{archive.as_uri()}#b", cwd=Path("/"))
    assert project.directory.name == "b"
    assert (project.directory / "MLproject").is_file()
    assert project.source_name == f"{archive}#b"


def test_single_top_directory_is_the_project(tmp_path: Path) -> None:
    files = {
        **nested("proj", PROJECT),
        **nested("proj/inner", PROJECT),
        "__MACOSX/proj/._MLproject": "Finder metadata",
    }
    archive = make_zip(tmp_path / "proj.zip", files)
    plain = fetch_project(str(archive))
    assert plain.directory.name == "proj"
    assert (plain.directory / "MLproject").is_file()
    release(plain)
    # MLflow's form (#subdir from the zip's root) works, and so does #subdir inside the folder.
    top = fetch_project(f"{archive}#proj")
    assert top.directory == plain.directory
    release(top)
    inner = fetch_project(f"{archive}#inner")
    assert inner.directory == plain.directory / "inner"
    assert inner.source_name == f"{archive}#inner"


def test_missing_subdirectory_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", PROJECT)
    with pytest.raises(SourceError, match=r"subdirectory 'nope' does not exist in .*p.zip"):
        fetch_project(f"{archive}#nope")


def test_executable_bits_and_inner_symlinks_are_kept(tmp_path: Path) -> None:
    files = {**PROJECT, "run.sh": "#!/bin/sh\necho hi\n", "data/x.txt": "x\n"}
    archive = make_zip(
        tmp_path / "p.zip", files, modes={"run.sh": 0o755}, links={"latest": "data/x.txt"}
    )
    project = fetch_project(str(archive))
    assert os.access(project.directory / "run.sh", os.X_OK)
    assert not os.access(project.directory / "hello.py", os.X_OK)
    assert (project.directory / "latest").is_symlink()
    assert (project.directory / "latest").read_text() == "x\n"


def test_second_fetch_reuses_the_unpacked_copy(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", PROJECT)
    first = fetch_project(str(archive))
    before = os.stat(first.directory / "hello.py")
    release(first)
    again = fetch_project(str(archive))
    after = os.stat(again.directory / "hello.py")
    assert again.directory == first.directory
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert len(copies()) == 1


def test_a_copy_changed_by_a_run_is_unpacked_again(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", PROJECT)
    first = fetch_project(str(archive))
    (first.directory / "model.pkl").write_text("output of a run")
    (first.directory / "hello.py").write_text("changed")
    (first.directory / "__pycache__").mkdir()  # Python's own: not a change
    release(first)
    again = fetch_project(str(archive))
    assert again.directory == first.directory
    assert not (again.directory / "model.pkl").exists()
    assert (again.directory / "hello.py").read_text() == PROJECT["hello.py"]


def test_concurrent_fetches_get_their_own_copies(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", PROJECT)
    one = fetch_project(str(archive))
    two = fetch_project(str(archive))  # `one` is still leased
    assert one.directory != two.directory
    assert len(copies()) == 2


def hold_zip_copy(uri: str, home: str, ident: int, barrier: Any, results: Any) -> None:
    """Run in a spawned process: fetch, mark the copy, wait for all, check nobody else wrote."""
    os.environ["MLPROJ_HOME"] = home
    try:
        project = fetch_project(uri)
        (project.directory / "owner.txt").write_text(str(ident))
        barrier.wait(timeout=60)
        mine = (project.directory / "owner.txt").read_text() == str(ident)
        results.put((str(project.directory), mine, None))
    except Exception as exc:  # reported to the test
        barrier.abort()
        results.put((None, False, f"{type(exc).__name__}: {exc}"))


def test_processes_unpacking_one_zip_at_once(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "p.zip", {**PROJECT, **{f"f{i}.txt": "x" * 999 for i in range(200)}}
    )
    count = 3
    outcomes = run_together(
        hold_zip_copy, [(str(archive), str(cache_root()), i) for i in range(count)], timeout=120
    )
    assert [o[2] for o in outcomes if o[2]] == []
    assert len({o[0] for o in outcomes}) == count
    assert all(o[1] for o in outcomes)
    assert not list((cache_root() / "zips").glob(".*.tmp"))


# --- refused input ------------------------------------------------------------------------


def test_version_is_refused_for_zips(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", PROJECT)
    with pytest.raises(SourceError, match="--version 'v1' applies to git projects") as err:
        fetch_project(str(archive), "v1")
    assert "drop --version" in err.value.one_line()


@pytest.mark.parametrize(
    "member", ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt"]
)
def test_path_traversal_is_refused(tmp_path: Path, member: str) -> None:
    archive = make_zip(tmp_path / "bad.zip", {**PROJECT, member: "pwned"})
    with pytest.raises(
        SourceError, match=f"zip member {member} of .*bad.zip attempts path traversal"
    ):
        fetch_project(str(archive))
    assert not (tmp_path / "evil.txt").exists()
    assert copies() == []


@pytest.mark.parametrize(
    "links",
    [
        {"out": "../../../../etc"},
        {"abs": "/etc/passwd"},
        {"here": ".", "sneaky": "here/../outside"},  # fine by name, out once `here` is followed
    ],
)
def test_symlinks_pointing_outside_are_refused(tmp_path: Path, links: dict[str, str]) -> None:
    archive = make_zip(tmp_path / "bad.zip", PROJECT, links=links)
    with pytest.raises(SourceError, match="is a symlink pointing outside the archive"):
        fetch_project(str(archive))
    assert copies() == []


def test_writing_through_a_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bad.zip", {**PROJECT, "d/x.txt": "x"}, links={"d": "."})
    with pytest.raises(SourceError, match="written through or over a symlink member"):
        fetch_project(str(archive))


def test_too_many_members_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unzip_module, "MAX_MEMBERS", 10)
    archive = make_zip(tmp_path / "bomb.zip", {f"f{i}": "" for i in range(11)})
    with pytest.raises(SourceError, match="has 11 members, more than the 10 allowed"):
        fetch_project(str(archive))


def test_too_large_unpacked_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unzip_module, "MAX_TOTAL_BYTES", 100_000)
    archive = make_zip(tmp_path / "bomb.zip", {**PROJECT, "zeros": b"\0" * 200_000})
    assert archive.stat().st_size < 2_000  # a bomb: tiny on disk, big unpacked
    with pytest.raises(SourceError, match=r"would unpack to 2000.. bytes, more than the 100000"):
        fetch_project(str(archive))
    assert copies() == []


def test_not_a_zip_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "fake.zip").write_text("not a zip at all")
    with pytest.raises(
        SourceError,
        match=r"fake.zip is not a readable zip archive: File is "
        "not a zip file",
    ):
        fetch_project("fake.zip", cwd=tmp_path)


def test_damaged_member_is_reported_and_nothing_published(tmp_path: Path) -> None:
    archive = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("MLproject", MLPROJECT)
    data = bytearray(archive.read_bytes())
    at = data.index(b"entry_points")
    data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"damaged.zip is not a readable zip archive: Bad CRC"):
        fetch_project(str(archive))
    assert copies() == []
    assert not list((cache_root() / "zips").glob(".*.tmp"))


def test_missing_zip_and_directory_named_zip(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=f"no such zip file: {tmp_path}/gone.zip"):
        fetch_project("gone.zip", cwd=tmp_path)
    (tmp_path / "dir.zip").mkdir()
    (tmp_path / "dir.zip" / "MLproject").write_text(MLPROJECT)
    with pytest.raises(SourceError, match="is a directory, not a zip file"):
        fetch_project("dir.zip", cwd=tmp_path)
    assert fetch_project("dir.zip/", cwd=tmp_path).directory == tmp_path / "dir.zip"


def test_other_schemes_are_refused() -> None:
    with pytest.raises(
        SourceError, match=re.escape("cannot fetch zip archives over s3://: s3://b/p.zip")
    ):
        fetch_project("s3://b/p.zip")


# --- http(s) ------------------------------------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    """Files from the served folder; `/private/…` needs Basic auth with CREDENTIALS."""

    def do_GET(self) -> None:
        if self.path.startswith("/private/"):
            expected = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_error(401)
                return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder and the http://127.0.0.1:<port> URL it is served at."""
    root = tmp_path / "served"
    (root / "private").mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_http_zip_is_downloaded(served: tuple[Path, str]) -> None:
    root, url = served
    make_zip(root / "p.zip", nested("sub", PROJECT))
    project = fetch_project(f"{url}/p.zip#sub")
    assert (project.directory / "hello.py").read_text() == PROJECT["hello.py"]
    assert project.source_name == f"{url}/p.zip#sub"
    assert project.git is None
    assert not list((cache_root() / "zips").glob(".download-*"))  # the download is gone


def test_http_credentials_are_used_but_not_recorded(served: tuple[Path, str]) -> None:
    root, url = served
    make_zip(root / "private" / "p.zip", PROJECT)
    with pytest.raises(SourceError, match=r"cannot download .*/private/p.zip: HTTP 401") as err:
        fetch_project(f"{url}/private/p.zip")
    assert "credentials in the URL" in err.value.one_line()
    with_user = url.replace("http://", f"http://{CREDENTIALS}@")
    project = fetch_project(f"{with_user}/private/p.zip")
    assert project.source_name == f"{url}/private/p.zip"
    assert (project.directory / "MLproject").is_file()


def test_http_404_is_one_line(served: tuple[Path, str]) -> None:
    _, url = served
    with pytest.raises(SourceError) as err:
        fetch_project(f"{url}/missing.zip")
    # the server's own reason phrase follows the code
    assert err.value.one_line() == (
        f"cannot download {url}/missing.zip: HTTP 404 File not found (check the URL)"
    )


def test_unreachable_server_is_one_line() -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SourceError) as err:
        fetch_project(f"http://127.0.0.1:{port}/p.zip")
    line = err.value.one_line()
    assert line.startswith(f"cannot download http://127.0.0.1:{port}/p.zip: ")
    assert "Connection refused" in line and "\n" not in line


# --- end to end ---------------------------------------------------------------------------


def test_mlproj_run_zip_with_subdirectory(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "proj.zip", nested("sub", PROJECT))
    store = tmp_path / "mlruns"
    result = run_cli(
        ["run", "proj.zip#sub", "--env-manager", "local", "--tracking-uri", str(store)],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "hello from the zip" in result.stdout
    run = only_run(store)
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.source.name"] == f"{archive}#sub"
    assert "mlflow.source.git.commit" not in run.data.tags


def test_validate_and_describe_read_the_project_inside_a_zip(tmp_path: Path) -> None:
    make_zip(
        tmp_path / "proj.zip",
        {"MLproject": "name: zipped\nentry_points:\n  main:\n    command: echo hi\n"},
    )
    checked = run_cli(["validate", "proj.zip"], cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    described = run_cli(["describe", "proj.zip", "--json"], cwd=tmp_path)
    assert described.returncode == 0, described.stderr
    assert '"name": "zipped"' in described.stdout
