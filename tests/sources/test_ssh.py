"""Projects over ssh, against a real `sshd` on 127.0.0.1 and the real ssh client: the
`ssh://user@host:port/path` and scp-like `user@host:/path` forms, a port and key chosen through
GIT_SSH_COMMAND (as a user configures them), the cache, the errors, and one `mlproj run`."""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlproj.errors import SourceError
from mlproj.sources import fetch_project, release
from tests.helpers import free_port, run_cli, wait_for_port
from tests.run.conftest import only_run
from tests.sources.gitrepos import Upstream

SSHD = Path("/usr/sbin/sshd")  # sshd re-executes itself, so it wants an absolute path
PRIVSEP_DIR = Path("/run/sshd")  # Debian's sshd refuses to start as root without it
USER = getpass.getuser()

_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {dir}/host_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers {user}
AcceptEnv GIT_PROTOCOL
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason} (.ci/setup.d/15-ssh.sh should provide it)")
    pytest.skip(reason)


def _keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mlproj-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def ssh_command(key: Path, port: int | None = None, *extra: str) -> str:
    """GIT_SSH_COMMAND as a user writes it for a non-default port and key; -F /dev/null keeps the
    developer's own ~/.ssh/config out of the tests."""
    argv = [
        "ssh",
        "-F",
        "/dev/null",
        *(["-p", str(port)] if port else []),
        "-i",
        str(key),
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=10",
        *extra,
    ]
    return shlex.join(argv)


def trusting_ssh_command(key: Path, port: int | None = None) -> str:
    return ssh_command(key, port, "-o", "StrictHostKeyChecking=no")


@dataclass
class Sshd:
    """An sshd on 127.0.0.1 that lets USER in with the key `client_key` (files under `dir`)."""

    dir: Path
    client_key: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sshd:
        for _ in range(5):  # a free port can be taken by someone else before sshd binds it
            self.port = free_port()
            config = self.dir / f"sshd_config.{self.port}"
            config.write_text(_CONFIG.format(port=self.port, dir=self.dir, user=USER))
            with (self.dir / "sshd.log").open("ab") as log:
                self.proc = subprocess.Popen(
                    [str(SSHD), "-D", "-e", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            if wait_for_port(self.port, self.proc):
                return self
            self.stop()
        log_tail = (self.dir / "sshd.log").read_text(errors="replace").strip()[-500:]
        _unavailable(f"sshd did not start: {log_tail}")
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc = None

    def url(self, path: Path) -> str:
        return f"ssh://{USER}@127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def ssh_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Host key, an authorised client key and a stranger's key, shared by the module."""
    for tool in (str(SSHD), "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            _unavailable(f"{tool} is not installed (Debian: openssh-server openssh-client)")
    shell = pwd.getpwuid(os.geteuid()).pw_shell
    if os.path.basename(shell) in ("nologin", "false"):  # e.g. nobody: sshd runs git through it
        _unavailable(f"the login shell of {USER} is {shell}: ssh cannot run git as this user")
    if os.geteuid() == 0 and not PRIVSEP_DIR.is_dir():
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True)  # what the openssh-server service creates
    root = tmp_path_factory.mktemp("sshd")
    _keygen(root / "host_key")
    _keygen(root / "client_key")
    _keygen(root / "stranger_key")
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    return root


@pytest.fixture(scope="module")
def sshd(ssh_dir: Path) -> Iterator[Sshd]:
    server = Sshd(ssh_dir, ssh_dir / "client_key").start()
    yield server
    server.stop()


def version_of(directory: Path) -> str:
    return (directory / "version.txt").read_text().strip()


def test_ssh_url_with_port_tag_and_subdirectory(
    sshd: Sshd, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The port comes from the URL only: git must pass it to the ssh of GIT_SSH_COMMAND.
    monkeypatch.setenv("GIT_SSH_COMMAND", trusting_ssh_command(sshd.client_key))
    url = sshd.url(upstream.bare)
    project = fetch_project(f"{url}#sub/v1.2", "v1")
    assert (project.directory / "MLproject").read_text() == "name: nested\n"
    assert project.directory.name == "v1.2"
    assert project.git is not None
    assert project.git.commit == upstream.c1
    assert (project.git.tag, project.git.branch, project.git.dirty) == ("v1", None, False)
    assert project.git.repo_url == url  # the user name is kept: it is no secret
    assert project.source_name == f"{url}#sub/v1.2"
    assert project.version == "v1"


def test_scp_like_url_with_port_from_git_ssh_command(
    sshd: Sshd, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_SSH_COMMAND", trusting_ssh_command(sshd.client_key, sshd.port))
    url = f"{USER}@127.0.0.1:{upstream.bare}"
    default = fetch_project(url)
    feature = fetch_project(url, "feature")
    assert version_of(default.directory) == "2"
    assert version_of(feature.directory) == "feature"
    assert default.git is not None and feature.git is not None
    assert (default.git.commit, feature.git.commit) == (upstream.c2, upstream.c3)
    assert feature.git.branch == "feature"
    assert default.git.repo_url == feature.git.repo_url == url
    assert default.source_name == url


def test_second_fetch_of_a_commit_needs_no_network(
    ssh_dir: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Sshd(ssh_dir, ssh_dir / "client_key").start()
    try:
        monkeypatch.setenv("GIT_SSH_COMMAND", trusting_ssh_command(server.client_key))
        url = server.url(upstream.bare)
        first = fetch_project(url, upstream.c1)
        release(first)
    finally:
        server.stop()
    again = fetch_project(url, upstream.c1)
    assert again.directory == first.directory
    assert version_of(again.directory) == "1"
    with pytest.raises(SourceError, match="Connection refused"):
        fetch_project(url, "main")  # a branch is resolved on the server: proof it is gone


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong key", "Permission denied (publickey)"),
        ("unknown host key", "Host key verification failed"),
        ("nothing listening", "Connection refused"),
        ("no such repository", "does not appear to be a git repository"),
    ],
)
@pytest.mark.timeout(60)
def test_ssh_failures_are_one_line(
    sshd: Sshd,
    ssh_dir: Path,
    upstream: Upstream,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    message: str,
) -> None:
    """BatchMode makes ssh fail instead of prompting; the user sees ssh's reason and the URL."""
    port = free_port() if case == "nothing listening" else sshd.port
    key = ssh_dir / ("stranger_key" if case == "wrong key" else "client_key")
    # "unknown host key" is the CI case: a host never seen, and nobody to answer "yes".
    trust = [] if case == "unknown host key" else ["-o", "StrictHostKeyChecking=no"]
    monkeypatch.setenv("GIT_SSH_COMMAND", ssh_command(key, None, *trust))
    repo = "missing.git" if case == "no such repository" else upstream.bare.name
    url = f"ssh://{USER}@127.0.0.1:{port}{upstream.bare.parent / repo}"
    with pytest.raises(SourceError) as info:
        fetch_project(url, "v1")  # a prompt would wait for an answer: the timeout mark bounds it
    line = info.value.one_line()
    assert line.startswith(f"cannot reach {url} (version 'v1'): "), line
    assert message in line
    assert "\n" not in line and "Traceback" not in line


def test_mlproj_run_over_ssh_records_the_commit(
    sshd: Sshd, upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_SSH_COMMAND", trusting_ssh_command(sshd.client_key))
    url = sshd.url(upstream.bare)
    store = tmp_path / "mlruns"
    result = run_cli(
        [
            "run",
            url,
            "-v",
            "v1",
            "-e",
            "main",
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
        ],
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "hi" in result.stdout.split()
    run = only_run(store)
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == upstream.c1
    assert tags["mlflow.source.git.repoURL"] == url
    assert tags["mlflow.source.name"] == url
    assert tags["mlproj.git.tag"] == "v1"
