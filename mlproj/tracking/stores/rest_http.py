"""HTTP for the REST store: MLflow's auth and TLS variables, bounded retries, one-line
errors. Imports requests (slow to import), so only rest.py imports this module.
"""

from __future__ import annotations

import configparser
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from mlproj.errors import TrackingError

# Variables a child needs to talk to the same server the same way.
AUTH_VARIABLES = (
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_INSECURE_TLS",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
    "MLFLOW_TRACKING_CLIENT_CERT_PATH",
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0


class ServerError(TrackingError):
    """The server answered with an error; `error_code` is MLflow's code when it sent one."""

    def __init__(self, message: str, status: int, error_code: str, hint: str | None = None):
        super().__init__(message, hint)
        self.status = status
        self.error_code = error_code


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _credentials_file() -> tuple[str, str] | None:
    """`~/.mlflow/credentials` ([mlflow] mlflow_tracking_username/password), as MLflow reads."""
    path = Path.home() / ".mlflow" / "credentials"
    if not path.is_file():
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None
    user = parser.get("mlflow", "mlflow_tracking_username", fallback=None)
    password = parser.get("mlflow", "mlflow_tracking_password", fallback=None)
    return (user, password) if user and password else None


def make_session(env: Mapping[str, str]) -> requests.Session:
    session = requests.Session()
    token = env.get("MLFLOW_TRACKING_TOKEN")
    user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    elif user and password:
        session.auth = (user, password)
    elif (stored := _credentials_file()) is not None:
        session.auth = stored
    if _true(env.get("MLFLOW_TRACKING_INSECURE_TLS")):
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the user asked
        session.verify = False
    elif env.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
        session.verify = env["MLFLOW_TRACKING_SERVER_CERT_PATH"]
    if env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH"):
        session.cert = env["MLFLOW_TRACKING_CLIENT_CERT_PATH"]
    return session


def _server_error(base: str, method: str, path: str, response: requests.Response) -> ServerError:
    code, message = "", ""
    try:
        body = response.json()
        if isinstance(body, dict):
            code, message = str(body.get("error_code", "")), str(body.get("message", ""))
    except ValueError:
        message = response.text.strip()[:200]
    what = f"{code}: {message}" if code else (message or response.reason or "no details")
    hint = None
    if response.status_code in (401, 403):
        hint = "set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
    return ServerError(
        f"tracking server {base} refused {method} {path} (HTTP {response.status_code}): {what}",
        response.status_code,
        code,
        hint,
    )


@dataclass(frozen=True)
class Retry:
    """How often a request is tried on network errors and 5xx, and the first pause between."""

    attempts: int = 3
    backoff: float = 0.5  # seconds, doubled after each try


DEFAULT_RETRY = Retry()


class HttpClient:
    """Requests to one tracking server, with a few quick retries on network errors and 5xx."""

    def __init__(self, base: str, env: Mapping[str, str] | None, retry: Retry) -> None:
        self.base = base.rstrip("/")
        self.session = make_session(os.environ if env is None else env)
        self.attempts = max(1, retry.attempts)
        self.backoff = retry.backoff

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send `method` to `base + path`; raise TrackingError unless the answer is 2xx."""
        url = f"{self.base}{path}"
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = self.session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise TrackingError(
                        f"cannot reach tracking server at {self.base}",
                        hint=f"is it running? ({type(exc).__name__})",
                    ) from exc
            except requests.RequestException as exc:
                raise TrackingError(f"request to {url} failed: {exc}") from exc
            else:
                if response.ok:
                    return response
                if last or response.status_code not in RETRY_STATUSES:
                    raise _server_error(self.base, method, path, response)
            self._rewind(kwargs)
            time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    @staticmethod
    def _rewind(kwargs: dict[str, Any]) -> None:
        """A file being uploaded must start again from its beginning on a retry."""
        seek = getattr(kwargs.get("data"), "seek", None)
        if seek is not None:
            seek(0)

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            raise TrackingError(
                f"tracking server {self.base} sent a non-JSON answer to {method} {path}",
                hint="is the URI an MLflow tracking server?",
            ) from None
        return body if isinstance(body, dict) else {}
