"""Item 4: credentials in a tracking URI never appear in an error, a log line or a tag."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlproj._util import redact as redact_module
from mlproj._util.redact import redact
from tests.conftest import run_cli
from tests.helpers import free_port
from tests.tracking.conftest import mlflow_server

SECRETS = ("pw-s3cret", "tok-s3cret")


def _with_secrets(url: str, query: bool = True) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://alice:{SECRETS[0]}@{rest}" + (f"?token={SECRETS[1]}" if query else "")


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("mlflow-secrets")
    with mlflow_server(f"sqlite:///{workdir / 'mlflow.db'}", workdir) as url:
        yield url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at http://u:p@h:1/x", "at http://***@h:1/x"),
        ("https://ghp_token@github.com/a.git", "https://***@github.com/a.git"),
        ("ssh://git@host/a.git", "ssh://git@host/a.git"),
        ("ssh://git:pw@host/a.git", "ssh://git:***@host/a.git"),
        ("http://h/p?token=t&n=1&api_key=k", "http://h/p?token=***&n=1&api_key=***"),
        (
            "s3://b/k?X-Amz-Signature=s&X-Amz-Credential=c",
            "s3://b/k?X-Amz-Signature=***&X-Amz-Credential=***",
        ),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


URLISH = st.text(alphabet="ahpst:/@?&;=#_-kKeyTOKEN ", max_size=40)


@given(text=URLISH)
def test_redact_skips_only_texts_that_cannot_match(text: str) -> None:
    """redact() leaves the patterns uncompiled when a text lacks their marks: the shortcut must
    give what applying every pattern gives."""
    always = re.sub(redact_module._HTTP_USERINFO, r"\1***@", text)
    always = re.sub(redact_module._PASSWORD, r"\1\2:***@", always)
    always = re.sub(redact_module._SECRET_PARAM, r"\1***", always)
    assert redact(text) == always


def test_unreachable_server(tmp_path: Path) -> None:
    uri = _with_secrets(f"http://127.0.0.1:{free_port()}")
    done = run_cli(["runs", "list"], cwd=tmp_path, env={"MLFLOW_TRACKING_URI": uri})
    assert done.returncode != 0
    assert "127.0.0.1" in done.stderr
    _assert_clean(done.stdout + done.stderr)


@pytest.mark.slow  # starts a real `mlflow server` (seconds): test_unreachable_server is fast
def test_run_not_found(tmp_path: Path, server: str) -> None:
    env = {"MLFLOW_TRACKING_URI": _with_secrets(server)}
    done = run_cli(["runs", "show", "0123456789abcdef0123456789abcdef"], cwd=tmp_path, env=env)
    assert done.returncode != 0
    _assert_clean(done.stdout + done.stderr)


@pytest.mark.slow  # starts a real `mlflow server` (seconds)
def test_recorded_command_tag(tmp_path: Path, server: str) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "MLproject").write_text("name: p\nentry_points:\n  main:\n    command: 'true'\n")
    uri = _with_secrets(server, query=False)
    done = run_cli(
        ["run", str(project), "--env-manager", "local", "--tracking-uri", uri], cwd=tmp_path
    )
    _assert_clean(done.stdout + done.stderr)
    assert done.returncode == 0, done.stderr
    body = json.dumps({"experiment_ids": ["0"], "max_results": 5}).encode()
    request = urllib.request.Request(
        f"{server}/api/2.0/mlflow/runs/search",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        runs = json.load(answer)["runs"]
    tags = {t["key"]: t["value"] for t in runs[0]["data"]["tags"]}
    assert "--tracking-uri" in tags["mlproj.command"]
    _assert_clean(json.dumps(runs))
