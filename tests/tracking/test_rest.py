"""REST store specifics: paging against a real server; retries, errors and credentials against
a small real HTTP server on 127.0.0.1 that answers what each test scripts."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlproj.errors import TrackingError
from mlproj.tracking.stores.rest import RestStore
from mlproj.tracking.stores.rest_http import Retry
from tests.helpers import free_port

RUN = {
    "info": {"run_id": "a" * 32, "experiment_id": "1", "run_name": "r", "status": "FINISHED",
             "start_time": "1000", "end_time": 2000, "artifact_uri": "mlflow-artifacts:/1/a",
             "user_id": "u"},
    "data": {"metrics": [{"key": "m", "value": "NaN", "timestamp": 1, "step": 0}],
             "params": [{"key": "p", "value": "1"}]},
}  # fmt: skip


class Scripted(ThreadingHTTPServer):
    """Answers requests from a list of (status, body); records what it received."""

    def __init__(self, answers: list[tuple[int, object]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.answers = answers
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        self.server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        status, body = self.server.answers.pop(0) if self.server.answers else (200, {})
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted([])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def quick(url: str, **env: str) -> RestStore:
    return RestStore(url, env=env, retry=Retry(attempts=3, backoff=0.01))


def test_server_errors_are_retried_a_few_times(scripted: Scripted) -> None:
    scripted.answers += [(503, {}), (502, b"<html>bad gateway</html>"), (200, {"run": RUN})]
    run = quick(scripted.url).get_run("a" * 32)
    assert len(scripted.seen) == 3
    assert run.info.start_time == 1000 and run.params == {"p": "1"}
    assert str(run.metrics["m"]) == "nan"


def test_a_persistent_error_is_one_line_with_the_servers_message(scripted: Scripted) -> None:
    error = {"error_code": "INTERNAL_ERROR", "message": "database\nis locked"}
    scripted.answers += [(500, error)] * 3
    with pytest.raises(TrackingError) as caught:
        quick(scripted.url).set_terminated("a" * 32, "FINISHED", 1)
    line = caught.value.one_line()
    assert "INTERNAL_ERROR: database is locked" in line and "\n" not in line
    assert "HTTP 500" in line


def test_client_errors_are_not_retried(scripted: Scripted) -> None:
    scripted.answers += [(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"})]
    with pytest.raises(TrackingError, match="not found"):
        quick(scripted.url).get_run("b" * 32)
    assert len(scripted.seen) == 1


@pytest.mark.timeout(60)  # bounds the wait: 3 tries, never a hang
def test_an_unreachable_server_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TrackingError, match=f"cannot reach tracking server at {url}"):
        quick(url).get_run("a" * 32)


def test_a_token_is_sent_as_bearer(scripted: Scripted) -> None:
    scripted.answers += [(200, {"run": RUN})]
    quick(scripted.url, MLFLOW_TRACKING_TOKEN="s3cret").get_run("a" * 32)
    assert scripted.seen[0][2]["Authorization"] == "Bearer s3cret"


def test_username_and_password_are_sent_as_basic_auth(scripted: Scripted) -> None:
    scripted.answers += [(200, {"run": RUN})]
    quick(scripted.url, MLFLOW_TRACKING_USERNAME="ann", MLFLOW_TRACKING_PASSWORD="pw").get_run(
        "a" * 32
    )
    assert scripted.seen[0][2]["Authorization"] == "Basic " + base64.b64encode(b"ann:pw").decode()


def test_refused_credentials_get_a_hint(scripted: Scripted) -> None:
    scripted.answers += [(401, b"Unauthorized")]
    with pytest.raises(TrackingError) as caught:
        quick(scripted.url).get_run("a" * 32)
    assert "MLFLOW_TRACKING_TOKEN" in caught.value.one_line()


def test_create_run_sends_start_time_and_user(scripted: Scripted) -> None:
    scripted.answers += [(200, {"run": RUN})]
    quick(scripted.url).create_run("1", user_id="ann", start_time=42, tags={}, run_name=None)
    method, path, _ = scripted.seen[0]
    assert (method, path) == ("POST", "/api/2.0/mlflow/runs/create")
    body = json.loads(scripted.bodies[0])
    assert (body["start_time"], body["user_id"], body["experiment_id"]) == (42, "ann", "1")


def test_child_env_passes_the_credentials_that_are_set() -> None:
    env = {"MLFLOW_TRACKING_TOKEN": "t", "MLFLOW_TRACKING_INSECURE_TLS": "true", "HOME": "/x"}
    child = RestStore("https://mlflow.example", env=env).child_env()
    assert child == {
        "MLFLOW_TRACKING_URI": "https://mlflow.example",
        "MLFLOW_TRACKING_TOKEN": "t",
        "MLFLOW_TRACKING_INSECURE_TLS": "true",
    }


@pytest.mark.slow  # starts a real `mlflow server` (seconds)
def test_runs_and_experiments_are_read_page_by_page(server_url: str) -> None:
    store = RestStore(server_url, page_size=2)
    name = f"paged-{uuid.uuid4().hex[:8]}"
    exp = store.resolve_experiment(name, None)
    ids = {
        store.create_run(exp, user_id="u", start_time=i, tags={}, run_name=None).run_id
        for i in range(5)
    }
    assert {r.info.run_id for r in store.search_runs([exp])} == ids
    assert name in [e.name for e in store.list_experiments()]
