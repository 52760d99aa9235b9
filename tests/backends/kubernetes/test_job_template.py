"""The Job rendered from a template in MLflow's documented shape, validated with the official
client's models (no API server can run here), and MLflow's config errors."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest
import yaml

from mlproj.backends.config import parse_backend_config
from mlproj.backends.kubernetes.config import parse_config
from mlproj.backends.kubernetes.job import load_template, render_job, run_env
from mlproj.backends.kubernetes.validate import validate_job
from mlproj.errors import UsageError
from tests.conftest import RESOURCES

KUBE = RESOURCES / "kubernetes"


def _render(template: dict[str, object], **env: str) -> dict[str, object]:
    return render_job(
        template,
        project_name="Docker_Example",
        image="127.0.0.1:5055/example:abc1234@sha256:" + "0" * 64,
        command="python train.py --alpha 0.5 && echo done",
        shell="bash",
        env=run_env("r1", "http://tracking.lab:5000", "7", env),
        now=datetime.datetime(2026, 11, 30, 16, 5, 1, 123456),
    )


def test_the_users_config_and_template_work_unchanged(tmp_path: Path) -> None:
    for name in ("kubernetes_config.json", "kubernetes_job_template.yaml"):
        shutil.copy(KUBE / name, tmp_path / name)
    raw = parse_backend_config(["kubernetes_config.json"], tmp_path)
    config = parse_config(raw, tmp_path)
    assert config.kube_context == "docker-for-desktop"
    assert config.repository_uri == "username/mlflow-kubernetes-example"
    job = _render(load_template(config.template_path))
    assert job["metadata"] == {
        "name": "docker-example-2026-11-30-16-05-01-123456",
        "namespace": "mlflow",
    }
    container = job["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    assert container["name"] == "docker-example"
    assert container["image"].startswith("127.0.0.1:5055/example:abc1234@sha256:")
    assert container["command"] == ["bash", "-c", "python train.py --alpha 0.5 && echo done"]
    assert container["env"] == [
        {"name": "MLFLOW_RUN_ID", "value": "r1"},
        {"name": "MLFLOW_TRACKING_URI", "value": "http://tracking.lab:5000"},
        {"name": "MLFLOW_EXPERIMENT_ID", "value": "7"},
    ]
    assert container["resources"]["limits"] == {"memory": "512Mi"}  # the rest is kept
    v1 = validate_job(job)
    assert type(v1).__name__ == "V1Job"
    assert v1.spec.template.spec.containers[0].env[0].name == "MLFLOW_RUN_ID"
    assert v1.spec.backoff_limit == 0


def test_kube_tracking_uri_and_the_templates_own_env_are_kept() -> None:
    template = load_template(KUBE / "kubernetes_job_template.yaml")
    template["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "MLFLOW_TRACKING_USERNAME",
         "valueFrom": {"secretKeyRef": {"name": "mlflow-secret", "key": "username"}}},
    ]  # fmt: skip
    job = _render(template, KUBE_MLFLOW_TRACKING_URI="http://mlflow.svc:5000")
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]  # type: ignore[index]
    assert env[0]["name"] == "MLFLOW_TRACKING_USERNAME"
    assert {"name": "MLFLOW_TRACKING_URI", "value": "http://mlflow.svc:5000"} in env
    validate_job(job)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c, s: c.update(volumeMount=[{"name": "x", "mountPath": "/x"}]),
         r"containers\[0\].volumeMount: unknown field of V1Container"),
        (lambda c, s: s.update(restartPolicy=["Never"]), "restartPolicy: expected str"),
        (lambda c, s: c["resources"].update(limits="512Mi"), "limits: expected a mapping"),
        (lambda c, s: s.update(activeDeadlineSeconds="10m"), "expected int"),
        (lambda c, s: s.update(containers=[{"image": "x"}]), "name"),
    ],
)  # fmt: skip
def test_a_bad_template_is_refused_with_the_field_path(edit: object, message: str) -> None:
    template = load_template(KUBE / "kubernetes_job_template.yaml")
    job = _render(template)
    pod_spec = job["spec"]["template"]["spec"]  # type: ignore[index]
    edit(pod_spec["containers"][0], pod_spec)  # type: ignore[operator]
    with pytest.raises(UsageError, match=message):
        validate_job(job)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Specify 'backend_config' when using kubernetes mode."),
        ({"repository-uri": "r"}, "'kube-job-template-path' attribute must be specified"),
        ({"kube-job-template-path": "nope.yaml", "repository-uri": "r"},
         "Could not find 'kube-job-template-path': nope.yaml"),
        ({"kube-job-template-path": "kubernetes_job_template.yaml"},
         "Could not find 'repository-uri' in backend_config."),
    ],
)  # fmt: skip
def test_mlflows_config_errors(raw: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        parse_config(raw, KUBE)


def test_a_template_that_is_not_a_job(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"kind": "Pod", "spec": {}}))
    with pytest.raises(UsageError, match="must be a Kubernetes Job"):
        load_template(path)
    path.write_text(json.dumps({"kind": "Job", "spec": {"template": {"spec": {}}}}))
    with pytest.raises(UsageError, match="at least one container"):
        load_template(path)
