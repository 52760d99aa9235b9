"""`-b kubernetes`: push the project's image, create a Job from the user's template with the
official `kubernetes` client, stream the pod's logs, map Job/pod status to the run status, and
delete the Job (propagation Foreground) on Ctrl-C. The client is imported only here."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from mlproj import output
from mlproj._util.clock import now_ms
from mlproj.backends.base import PreparedRun
from mlproj.backends.kubernetes import job as jobs
from mlproj.backends.kubernetes.config import KubeConfig, parse_config
from mlproj.backends.kubernetes.status import JobStatus, job_status
from mlproj.backends.kubernetes.validate import validate_job
from mlproj.backends.reach import REACH_HINT, reach_problem
from mlproj.errors import RunError, TrackingError
from mlproj.tracking.base import TERMINAL_STATUSES, Run, Store

JOB_TAG = "mlproj.kubernetes.job"
NAMESPACE_TAG = "mlproj.kubernetes.namespace"
CONTEXT_TAG = "mlproj.kubernetes.context"
REASON_TAG = "mlproj.kubernetes.reason"
_POLL = 2.0
_PUSH_TIMEOUT = 300


class KubernetesBackend:
    name = "kubernetes"
    runs_containers = True  # the submitter prepares the docker_env image

    def check(self, config: Mapping[str, Any]) -> None:
        parsed = parse_config(config)
        jobs.load_template(parsed.template_path)

    def check_tracking(self, tracking_uri: str, config: Mapping[str, Any]) -> None:
        parsed = parse_config(config)
        template = jobs.load_template(parsed.template_path)
        if "KUBE_MLFLOW_TRACKING_URI" in os.environ:
            tracking_uri = os.environ["KUBE_MLFLOW_TRACKING_URI"]
        problem = None
        if tracking_uri.startswith(("file:", "/", "sqlite:")):
            path = tracking_uri.removeprefix("file://").removeprefix("sqlite:///")
            mounts = jobs.mounted_paths(template)
            if not any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts):
                problem = (
                    f"the tracking store {tracking_uri} is a path on this host that the "
                    "job template mounts nowhere in the pod"
                )
        else:
            problem = reach_problem(tracking_uri, ["pod"], set())
        if problem:
            raise TrackingError(
                problem.replace("the job on pod", "the pod"),
                "set KUBE_MLFLOW_TRACKING_URI (or --tracking-uri) to a tracking server the pods "
                f"can reach, or mount the store at the same path in the template; {REACH_HINT}",
            )

    def submit(self, prepared: PreparedRun) -> KubernetesRun:
        config = parse_config(prepared.config)
        if prepared.image is None:
            raise RunError("-b kubernetes runs docker_env projects: add docker_env to MLproject")
        image = push_image(prepared.image, config, prepared.store, prepared.run_id)
        job = build_job(prepared, config, image)
        validate_job(job)
        text = yaml.safe_dump(job, sort_keys=False)
        prepared.store.write_artifact(prepared.run_id, "kubernetes/job.yaml", text.encode())
        api = _Api(config.kube_context)
        created = api.create_job(job)
        namespace = job["metadata"]["namespace"]
        prepared.store.set_tags(
            prepared.run_id,
            {
                JOB_TAG: created,
                NAMESPACE_TAG: namespace,
                CONTEXT_TAG: config.kube_context or "",
            },
        )
        return KubernetesRun(prepared.store, prepared.run_id, api, created, namespace)

    def node_finished(self, store: Store, run_id: str) -> None:
        return None  # the pod runs the entry point itself, not `mlproj _exec-run`

    def reconcile(self, store: Store, runs: Sequence[Run]) -> list[Run]:
        return [self._reconcile_one(store, run) for run in runs]  # one Job per run

    def _reconcile_one(self, store: Store, run: Run) -> Run:
        name = run.tags.get(JOB_TAG)
        if not name or run.info.status in TERMINAL_STATUSES:
            return run
        api = _Api(run.tags.get(CONTEXT_TAG) or None)
        handle = KubernetesRun(store, run.info.run_id, api, name, run.tags[NAMESPACE_TAG])
        handle.get_status()
        return store.get_run(run.info.run_id)


def build_job(prepared: PreparedRun, config: KubeConfig, image: str) -> dict[str, Any]:
    env = jobs.run_env(prepared.run_id, prepared.tracking_uri, prepared.experiment_id, os.environ)
    return jobs.render_job(
        jobs.load_template(config.template_path),
        project_name=prepared.project_name,
        image=image,
        command=prepared.command,
        shell=prepared.image_shell,
        env=env,
    )


def push_image(local: str, config: KubeConfig, store: Store, run_id: str) -> str:
    """Tag the local image with repository-uri (`:<sha7>` of its id, as MLflow does) and push
    it with the docker SDK; return `repo:tag@digest`, what the pod runs."""
    import docker
    from docker.errors import DockerException

    from mlproj.envs.docker.engine import event_errors, read_events

    try:
        client = docker.from_env(timeout=_PUSH_TIMEOUT)
    except DockerException as exc:
        raise RunError(f"Error while pushing to docker registry: {exc}") from None
    try:
        image = client.images.get(local)
        tag = image.id.split(":")[-1][:7]
        image.tag(config.repository_uri, tag=tag)
        events = read_events(
            client.api.push(config.repository_uri, tag=tag, stream=True, decode=True)
        )
    except DockerException as exc:
        raise RunError(f"Error while pushing to docker registry: {exc}") from None
    finally:
        client.close()
    errors = event_errors(events)
    if errors:
        raise RunError(f"Error while pushing to docker registry: {errors[0]}")
    digests = [event["aux"]["Digest"] for event in events if "Digest" in (event.get("aux") or {})]
    digest = digests[-1] if digests else None
    if not digest:
        raise RunError(f"the registry reported no digest for {config.repository_uri}:{tag}")
    uri = f"{config.repository_uri}:{tag}@{digest}"
    store.set_tags(run_id, {"mlflow.docker.image.uri": uri, "mlflow.docker.image.id": digest})
    return uri


class _Api:
    """The few calls we make, on the official client (imported lazily: it is slow to import)."""

    def __init__(self, context: str | None) -> None:
        try:
            from kubernetes import client, config
        except ImportError:
            raise RunError(
                "-b kubernetes needs the kubernetes package", "pip install kubernetes"
            ) from None
        try:
            config.load_kube_config(context=context)
        except Exception as exc:  # no kubeconfig: try the in-cluster service account
            if context:
                raise RunError(f"kube-context {context!r}: {exc}") from None
            try:
                config.load_incluster_config()
            except config.ConfigException:
                raise RunError(f"no Kubernetes cluster configured: {exc}") from None
        self.client = client.ApiClient()
        self.batch = client.BatchV1Api(self.client)
        self.core = client.CoreV1Api(self.client)

    def create_job(self, job: Mapping[str, Any]) -> str:
        from kubernetes.client.exceptions import ApiException

        namespace = job["metadata"]["namespace"]
        host = self.client.configuration.host
        try:
            created = self.batch.create_namespaced_job(namespace=namespace, body=job)
        except ApiException as exc:
            raise RunError(f"the API server at {host} refused the Job: {exc.reason}") from None
        except Exception as exc:  # urllib3 connection errors and friends
            raise RunError(f"cannot reach the Kubernetes API server at {host}: {exc}") from None
        return str(created.metadata.name)

    def read(self, name: str, namespace: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        from kubernetes.client.exceptions import ApiException

        try:
            job = self.batch.read_namespaced_job_status(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None, []
            raise RunError(f"cannot read Job {namespace}/{name}: {exc.reason}") from None
        pods = self.core.list_namespaced_pod(namespace, label_selector=f"job-name={name}")
        as_json = self.client.sanitize_for_serialization
        return as_json(job), [as_json(p) for p in pods.items]

    def delete(self, name: str, namespace: str) -> None:
        self.batch.delete_namespaced_job(name, namespace, propagation_policy="Foreground")

    def stream_logs(self, pod: str, namespace: str) -> None:
        response = self.core.read_namespaced_pod_log(
            pod, namespace, follow=True, _preload_content=False
        )
        for chunk in response.stream():
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()


class KubernetesRun:
    def __init__(self, store: Store, run_id: str, api: _Api, name: str, namespace: str) -> None:
        self._store = store
        self._run_id = run_id
        self._api = api
        self._name = name
        self._namespace = namespace
        self._streaming: set[str] = set()

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def job_id(self) -> str:
        return f"{self._namespace}/{self._name}"

    def get_status(self) -> str:
        job, pods = self._api.read(self._name, self._namespace)
        if job is None:
            found = JobStatus("FAILED", "the Job no longer exists (deleted, or removed by its TTL)")
        else:
            found = job_status(job, pods)
            self._follow_logs(pods)
        return self._record(found)

    def wait(self) -> bool:
        try:
            while (status := self.get_status()) not in TERMINAL_STATUSES:
                time.sleep(_POLL)
        except KeyboardInterrupt:
            output.important(f"interrupted: deleting Job {self.job_id}")
            self.cancel()
            return False
        return status == "FINISHED"

    def cancel(self) -> None:
        self._api.delete(self._name, self._namespace)
        self._store.set_tags(self._run_id, {REASON_TAG: "Job deleted by mlproj (cancelled)"})
        self._store.set_terminated(self._run_id, "KILLED", now_ms())

    def _record(self, found: JobStatus) -> str:
        if found.status not in TERMINAL_STATUSES:
            return found.status
        if found.reason:
            self._store.set_tags(self._run_id, {REASON_TAG: found.reason[:5000]})
        # As for a local run, the Job's outcome decides, whatever the container's own MLflow
        # wrote (its exit handler ends a run FINISHED even after a crash).
        self._store.set_terminated(self._run_id, found.status, now_ms())
        return found.status

    def _follow_logs(self, pods: list[dict[str, Any]]) -> None:
        for pod in pods:
            name = pod["metadata"]["name"]
            phase = (pod.get("status") or {}).get("phase")
            if name in self._streaming or phase not in ("Running", "Succeeded", "Failed"):
                continue
            self._streaming.add(name)
            thread = threading.Thread(
                target=self._api.stream_logs, args=(name, self._namespace), daemon=True
            )
            thread.start()


BACKEND = KubernetesBackend()
