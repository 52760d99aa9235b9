"""A Job from the user's template, following MLflow's conventions.

The template's `{replaced with ...}` values (or anything in those places) are replaced: the
Job's name gets the project name and a timestamp, the first container gets the project name,
the pushed image (`repo:tag@digest`) and the entry point's command; MLFLOW_RUN_ID,
MLFLOW_TRACKING_URI (KUBE_MLFLOW_TRACKING_URI when set) and MLFLOW_EXPERIMENT_ID are appended
to its env. Everything else in the template (namespace, resources, volumes, secrets) is kept.

One deliberate difference: MLflow splits the command with shlex and runs it without a shell
(so `&&` and pipes break and quotes leak into argv); mlproj runs it with the image's shell,
as its local docker runs do.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlproj.errors import UsageError

_NAME_MAX = 63  # a Job's name becomes a label value of its pods


def load_template(path: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{where}: invalid YAML in the job template") from None
    if not isinstance(loaded, dict) or loaded.get("kind") != "Job":
        raise UsageError(f"{path}: the job template must be a Kubernetes Job (kind: Job)")
    containers = loaded.get("spec", {}).get("template", {}).get("spec", {}).get("containers")
    if not isinstance(containers, list) or not containers or not isinstance(containers[0], dict):
        raise UsageError(f"{path}: spec.template.spec.containers must list at least one container")
    return loaded


def dns_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return name or "mlproj"


def render_job(
    template: Mapping[str, Any],
    *,
    project_name: str,
    image: str,
    command: str,
    shell: str,
    env: Mapping[str, str],
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    job = copy.deepcopy(dict(template))
    stamp = (now or datetime.datetime.now()).strftime("%Y-%m-%d-%H-%M-%S-%f")
    base = dns_name(project_name)[: _NAME_MAX - len(stamp) - 1].rstrip("-")
    metadata = job.setdefault("metadata", {})
    metadata["name"] = f"{base}-{stamp}"
    metadata.setdefault("namespace", "default")
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["name"] = dns_name(project_name)
    container["image"] = image
    container["command"] = [shell, "-c", command]
    container.pop("args", None)
    existing = [e for e in container.get("env") or [] if isinstance(e, dict)]
    names = set(env)
    container["env"] = [e for e in existing if e.get("name") not in names] + [
        {"name": name, "value": value} for name, value in env.items()
    ]
    return job


def run_env(
    run_id: str, tracking_uri: str, experiment_id: str, environ: Mapping[str, str]
) -> dict[str, str]:
    return {
        "MLFLOW_RUN_ID": run_id,
        "MLFLOW_TRACKING_URI": environ.get("KUBE_MLFLOW_TRACKING_URI", tracking_uri),
        "MLFLOW_EXPERIMENT_ID": experiment_id,
    }


def mounted_paths(job: Mapping[str, Any]) -> list[str]:
    """The mount paths of the first container (a file store must be under one of them)."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    return [
        str(m.get("mountPath")) for m in container.get("volumeMounts") or [] if isinstance(m, dict)
    ]
