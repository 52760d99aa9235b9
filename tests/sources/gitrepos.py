"""Real git repositories and servers for the sources tests: work trees with commits, branches
and tags, bare origins, a `git daemon` and a smart-HTTP server (git http-backend) on 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.helpers import free_port, wait_for_port

# Test repositories are made with a fixed identity and without the user's git config.
_TEST_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env={**os.environ, **_TEST_GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def commit_files(work: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


@dataclass(frozen=True)
class Upstream:
    work: Path  # a work tree (the "developer's clone")
    bare: Path  # its bare origin, as a server would hold it
    c1: str  # main~1, annotated tag v1
    c2: str  # main (HEAD), lightweight tag light
    c3: str  # branch feature


def make_upstream(root: Path, name: str = "demo") -> Upstream:
    """main: c1 (tag v1) -> c2 (tag light); feature: c2 -> c3. Files: MLproject, version.txt,
    sub/v1.2/MLproject, a symlink leaving the repository and one staying inside."""
    work = root / f"{name}-work"
    work.mkdir(parents=True)
    git("init", "-q", str(work))
    os.symlink("/", work / "escape")
    os.symlink("sub", work / "inside")
    c1 = commit_files(
        work,
        {
            "MLproject": "name: demo\nentry_points:\n  main:\n    command: echo hi\n",
            "version.txt": "1\n",
            "sub/v1.2/MLproject": "name: nested\n",
            ".gitignore": "out/\n*.pyc\n",
        },
        "first",
    )
    git("tag", "-a", "v1", "-m", "release 1", cwd=work)
    c2 = commit_files(work, {"version.txt": "2\n"}, "second")
    git("tag", "light", cwd=work)
    git("checkout", "-q", "-b", "feature", cwd=work)
    c3 = commit_files(work, {"version.txt": "feature\n"}, "third")
    git("checkout", "-q", "main", cwd=work)
    bare = root / "served" / f"{name}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("clone", "-q", "--bare", str(work), str(bare))
    return Upstream(work=work, bare=bare, c1=c1, c2=c2, c3=c3)


def make_ambiguous_repo(bare: Path) -> str:
    """A bare repository with 2000 commits (fixed dates, so fixed shas) of which at least two
    share their first 4 hex digits; returns that prefix."""
    git("init", "-q", "--bare", str(bare))
    stream = "".join(
        f"commit refs/heads/main\ncommitter T <t@example.invalid> {1700000000 + i} +0000\n"
        f"data {len(f'c{i}')}\nc{i}\n\n"
        for i in range(1, 2001)
    )
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=bare,
        input=stream,
        text=True,
        check=True,
        env={**os.environ, **_TEST_GIT_ENV},
    )
    prefixes = [sha[:4] for sha in git("rev-list", "main", cwd=bare).split()]
    return next(p for p in prefixes if prefixes.count(p) > 1)


class GitDaemon:
    """`git daemon` serving every repository under `base` at git://127.0.0.1:PORT/."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> GitDaemon:
        for _ in range(5):  # a free port can be taken by someone else before we bind it
            self.port = free_port()
            self.proc = subprocess.Popen(
                [
                    "git",
                    "daemon",
                    "--reuseaddr",
                    f"--base-path={self.base}",
                    "--export-all",
                    "--informative-errors",
                    "--listen=127.0.0.1",
                    f"--port={self.port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            if wait_for_port(self.port, self.proc):
                return self
            self.stop()
        raise AssertionError("git daemon did not start")

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.proc = None


class _GitHTTPHandler(BaseHTTPRequestHandler):
    """Smart HTTP through `git http-backend` (CGI), with optional Basic auth."""

    server: GitHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _serve(self) -> None:
        expected = self.server.credentials
        if expected is not None:
            token = base64.b64encode(expected.encode()).decode()
            if self.headers.get("Authorization") != f"Basic {token}":
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            **os.environ,
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        ).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        headers = [line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line]
        status = next((int(v.split()[0]) for k, v in headers if k.lower() == "status"), 200)
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class GitHTTPServer(ThreadingHTTPServer):
    def __init__(self, root: Path, credentials: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _GitHTTPHandler)
        self.root = root
        self.credentials = credentials  # "user:token" required when set
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def start(self) -> GitHTTPServer:
        self._thread.start()
        return self

    def url(self, name: str, userinfo: str | None = None) -> str:
        auth = f"{userinfo}@" if userinfo else ""
        return f"http://{auth}127.0.0.1:{self.server_address[1]}/{name}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def make_super_repo(served: Path, work_root: Path) -> tuple[str, str]:
    """served/lib.git and served/super.git, where super has lib as a submodule at `lib`
    through the relative URL `../lib.git`. Returns (super commit, lib commit)."""
    lib_work = work_root / "lib-work"
    lib_work.mkdir(parents=True)
    git("init", "-q", str(lib_work))
    lib_commit = commit_files(lib_work, {"lib.txt": "library\n"}, "lib")
    git("clone", "-q", "--bare", str(lib_work), str(served / "lib.git"))
    super_work = work_root / "super-work"
    super_work.mkdir()
    git("init", "-q", str(super_work))
    git("init", "-q", "--bare", str(served / "super.git"))
    git("remote", "add", "origin", str(served / "super.git"), cwd=super_work)
    commit_files(super_work, {"MLproject": "name: super\n"}, "super")
    git("submodule", "add", "-q", "../lib.git", "lib", cwd=super_work)
    git("commit", "-q", "-m", "add lib", cwd=super_work)
    git("push", "-q", "origin", "main", cwd=super_work)
    return git("rev-parse", "HEAD", cwd=super_work), lib_commit
