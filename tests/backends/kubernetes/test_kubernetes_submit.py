"""`mlproj run -b kubernetes --build-image` up to the API call: the docker_env image is built,
tagged with repository-uri and pushed to a real registry on 127.0.0.1 (.ci/setup.d/55-registry.sh)
and pulled back by digest; the Job is rendered, validated and saved with the run. No API server
can run here, so the kubeconfig points at a closed port: the run must end FAILED, saying so."""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlproj.backends.kubernetes.validate import validate_job
from tests.backends.slurm.conftest import mlproj, run_json
from tests.docker.conftest import BASE_IMAGE

pytestmark = pytest.mark.docker

REGISTRY = os.environ.get("MLPROJ_TEST_REGISTRY", "127.0.0.1:5055")


def _registry_up() -> bool:
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5):
            return True
    except OSError:
        return False


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kubeconfig(path: Path) -> Path:
    server = f"https://127.0.0.1:{_closed_port()}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "ci", "cluster": {"server": server, "insecure-skip-tls-verify": True}}
        ],
        "users": [{"name": "ci", "user": {"token": "t"}}],
        "contexts": [{"name": "ci", "context": {"cluster": "ci", "user": "ci"}}],
        "current-context": "ci",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_image_pushed_and_pulled_back_job_rendered(
    engine: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _registry_up():
        if os.environ.get("CI"):
            pytest.fail(f"no registry at {REGISTRY} (.ci/setup.d/55-registry.sh starts one)")
        pytest.skip(f"no registry at {REGISTRY}")
    store = tmp_path / "mlruns"
    project = tmp_path / "project"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: dtest-k8s\n"
        f"docker_env:\n  image: {BASE_IMAGE}\n"
        "entry_points:\n  main:\n    command: python -c 'print(42)'\n"
    )
    (project / "train.txt").write_text("code that goes into the image\n")
    template = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "{replaced with MLflow Project name}", "namespace": "mlflow"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "{replaced with MLflow Project name}",
                            "image": "{replaced with URI of Docker image created during "
                            "Project execution}",
                            "command": ["{replaced with MLflow Project entry point command}"],
                            # the file store, mounted at the same path in the pod
                            "volumeMounts": [{"name": "runs", "mountPath": str(store)}],
                        }
                    ],
                    "volumes": [{"name": "runs", "hostPath": {"path": str(store)}}],
                }
            },
        },
    }
    (tmp_path / "job_template.yaml").write_text(yaml.safe_dump(template))
    repository = f"{REGISTRY}/mlproj-test/dtest-k8s"
    (tmp_path / "kubernetes_config.json").write_text(
        json.dumps(
            {
                "kube-context": "ci",
                "kube-job-template-path": "job_template.yaml",
                "repository-uri": repository,
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "kubeconfig")))
    args = ["run", str(project), "-b", "kubernetes", "-c", "kubernetes_config.json"]
    done = mlproj([*args, "--build-image", "--tracking-uri", str(store)], tmp_path)
    assert done.returncode == 1
    assert "cannot reach the Kubernetes API server at https://127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr

    run_dirs = list(store.glob("0/*/meta.yaml"))
    assert len(run_dirs) == 1
    run = run_json(store, run_dirs[0].parent.name, tmp_path)
    assert run["status"] == "FAILED"
    tags = run["tags"]
    assert isinstance(tags, dict)
    assert tags["mlflow.project.backend"] == "kubernetes"
    uri = str(tags["mlflow.docker.image.uri"])
    assert uri.startswith(f"{repository}:") and "@sha256:" in uri

    job = yaml.safe_load(next(store.glob("0/*/artifacts/kubernetes/job.yaml")).read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == uri
    assert container["command"][-1] == "python -c 'print(42)'"
    assert {e["name"] for e in container["env"]} >= {"MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI"}
    validate_job(job)

    # pull the pushed image back by digest: the same image, code included
    client: Any = engine
    pushed_tag, digest = uri.split("@")
    built = client.images.get(pushed_tag)
    client.images.remove(pushed_tag)  # the project's own tag keeps the image itself
    pulled = client.images.pull(repository, tag=digest)
    assert pulled.id == built.id
    assert tags["mlflow.docker.image.id"] == digest
