"""MLflow's Kubernetes backend config (kubernetes_config.json), read the way MLflow reads it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj.errors import UsageError


@dataclass(frozen=True)
class KubeConfig:
    template_path: Path
    repository_uri: str
    kube_context: str | None = None  # None: the current kubeconfig context, else in-cluster
    build_image: bool = False  # --build-image: the code goes into the pushed image


def parse_config(raw: Mapping[str, Any], cwd: Path | None = None) -> KubeConfig:
    if not set(raw) - {"build_image"}:  # build_image comes from --build-image, not -c
        raise UsageError(
            "Specify 'backend_config' when using kubernetes mode.",
            "-c kubernetes_config.json with kube-job-template-path and repository-uri",
        )
    template = raw.get("kube-job-template-path")
    if not template:
        raise UsageError("'kube-job-template-path' attribute must be specified in backend_config.")
    path = (cwd or Path.cwd()) / str(template)
    if not path.is_file():
        raise UsageError(f"Could not find 'kube-job-template-path': {template}")
    repository = raw.get("repository-uri")
    if not repository:
        raise UsageError("Could not find 'repository-uri' in backend_config.")
    context = raw.get("kube-context")
    return KubeConfig(
        template_path=path.resolve(),
        repository_uri=str(repository),
        kube_context=str(context) if context else None,
        build_image=bool(raw.get("build_image", False)),
    )
