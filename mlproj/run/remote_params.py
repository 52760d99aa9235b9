"""Remote values of `path` parameters (`runs:/...`, `http(s)://...`, `s3://...`), downloaded
into a private directory for one run, as MLflow does. A temp directory is removed when the run
ends; under a `--storage-dir` the user chose, the downloads are kept (as MLflow keeps them)."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from mlproj.errors import ParamError, TrackingError
from mlproj.tracking.base import Store

_HTTP_TIMEOUT = 60.0
_UNSAFE_CHARS = r"[^A-Za-z0-9_.-]"  # compiled (and cached by `re`) on first use


class Downloads:
    """Fetches remote path values; `fetch(name, value)` returns the local path for the command."""

    def __init__(self, store: Store, storage_dir: str | None = None) -> None:
        self._store = store  # the store the run records into: `runs:/` names its runs
        self._storage_dir = storage_dir
        self._root: Path | None = None

    def fetch(self, name: str, value: str) -> str:
        dest = self._folder() / f"param_{re.sub(_UNSAFE_CHARS, '_', name)}"
        dest.mkdir()
        scheme = urlparse(value).scheme
        try:
            if scheme == "runs":
                return str(self._from_run(value, dest))
            if scheme in ("http", "https"):
                return str(_from_http(value, dest))
            return str(_with_mlflow(value, dest, self._store.uri))
        except TrackingError as exc:
            raise ParamError(
                f"cannot fetch {value!r} for path parameter '{name}': {exc.message}", exc.hint
            ) from None

    def cleanup(self) -> None:
        if self._root is not None and self._storage_dir is None:
            import shutil

            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def _folder(self) -> Path:
        if self._root is None:
            import tempfile  # only a run with a remote path value gets here

            base = Path(self._storage_dir) if self._storage_dir else None
            if base is not None:
                base.mkdir(parents=True, exist_ok=True)
            self._root = Path(tempfile.mkdtemp(prefix="mlproj-params-", dir=base))
        return self._root

    def _from_run(self, value: str, dest: Path) -> Path:
        """`runs:/<run id>/<artifact path>` from the tracking store the run records into."""
        parts = unquote(urlparse(value).path).strip("/").split("/", 1)
        run_id, artifact = parts[0], (parts[1] if len(parts) > 1 else "").strip("/")
        if not run_id:
            raise ParamError(f"{value!r} names no run", "write runs:/<run id>/<artifact path>")
        store = self._store
        files = store.list_artifacts(run_id, artifact)
        if not files:  # a single file, or nothing at all (then read_artifact says so)
            target = dest / PurePosixPath(artifact).name
            target.write_bytes(store.read_artifact(run_id, artifact))
            return target
        top = dest / PurePosixPath(artifact).name if artifact else dest
        for relative in files:
            inside = PurePosixPath(relative).relative_to(artifact) if artifact else relative
            target = top / PurePosixPath(inside)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(store.read_artifact(run_id, relative))
        return top


def _from_http(value: str, dest: Path) -> Path:
    import requests

    name = PurePosixPath(unquote(urlparse(value).path)).name or "download"
    target = dest / name
    try:
        with requests.get(value, stream=True, timeout=_HTTP_TIMEOUT) as reply:
            reply.raise_for_status()
            with target.open("wb") as out:
                for chunk in reply.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
    except requests.RequestException as exc:
        raise ParamError(f"cannot download {value!r}: {exc}") from None
    return target


def _with_mlflow(value: str, dest: Path, tracking_uri: str) -> Path:
    """Other schemes (s3://, gs://, models:/, mlflow-artifacts:, ...) through MLflow's own
    artifact repositories, when the mlflow package is installed."""
    try:
        import mlflow.artifacts
    except ImportError:
        raise ParamError(
            f"cannot fetch {value!r}: {urlparse(value).scheme}: URIs are downloaded with the "
            "mlflow package",
            "pip install 'mlproj[mlflow]', or download it and pass a local path",
        ) from None
    try:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=value, dst_path=str(dest), tracking_uri=tracking_uri
        )
    except Exception as exc:  # any backend's error: S3, GCS, registry, network
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParamError(f"cannot fetch {value!r}: {first_line}") from None
    return Path(local)
