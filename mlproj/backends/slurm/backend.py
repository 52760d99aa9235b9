"""Submit a prepared run with sbatch, follow it, cancel it, and end runs Slurm ended."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlproj import output
from mlproj._util.clock import now_ms
from mlproj.backends.base import PreparedRun
from mlproj.backends.reach import REACH_HINT, reach_problem, this_host_names
from mlproj.backends.slurm import commands
from mlproj.backends.slurm.config import SlurmConfig, parse_config
from mlproj.backends.slurm.script import render_script
from mlproj.errors import TrackingError
from mlproj.tracking.base import TERMINAL_STATUSES, Run, RunStatus, Store
from mlproj.tracking.lifecycle import finish_run, mark_status
from mlproj.tracking.stores import local_artifacts

JOB_ID_TAG = "mlproj.slurm.job_id"
STATE_TAG = "mlproj.slurm.state"
REASON_TAG = "mlproj.slurm.reason"
# Slurm's end state of a job whose run the node step could not end -> the run's status
_RUN_STATUS: dict[str, RunStatus] = {
    "CANCELLED": "KILLED",
    "TIMEOUT": "KILLED",
    "PREEMPTED": "KILLED",
    "DEADLINE": "KILLED",
}
_POLL = 0.1  # the output files: a stat and a read
_QUEUE_POLL = 1.0  # squeue


def run_status_for(state: str) -> RunStatus:
    """FAILED for node failure, OOM, a failed boot or anything unexpected."""
    return _RUN_STATUS.get(state.split()[0] if state else "", "FAILED")


class SlurmBackend:
    name = "slurm"
    runs_containers = False  # the node builds or reuses the env itself

    def check(self, config: Mapping[str, Any]) -> None:
        parse_config(config)

    def check_tracking(self, tracking_uri: str, config: Mapping[str, Any]) -> None:
        partition = config.get("partition")
        problem = reach_problem(
            tracking_uri, commands.nodes(str(partition) if partition else None), this_host_names()
        )
        if problem:
            raise TrackingError(problem, REACH_HINT)

    def submit(self, prepared: PreparedRun) -> SlurmRun:
        config = parse_config(prepared.config)
        store = prepared.store
        output_dir = _output_dir(prepared, config)
        script = render_script(
            prepared.node_step,
            config,
            project_name=prepared.project_name,
            output_dir=str(output_dir),
        )
        # queued until the node step starts it (RUNNING); set before sbatch, which may start
        # the job at once
        mark_status(store, prepared.run_id, "SCHEDULED")
        job_id = submit_script(store, prepared.run_id, script, output_dir, config)
        return SlurmRun(store, prepared.run_id, job_id, output_dir, config)

    def node_finished(self, store: Store, run_id: str) -> None:
        job_id = os.environ.get("SLURM_JOB_ID")
        if not job_id:
            return
        state = commands.job_state(job_id)
        tags = {"mlproj.slurm.node": state.node or os.uname().nodename}
        notice = commands.stepd_kill_notice(commands.read_tail(state.stderr_path), job_id)
        if notice is not None:  # Slurm killed the job (scancel, time limit, preemption)
            tags[STATE_TAG], tags[REASON_TAG] = notice
        elif state.state not in ("RUNNING", "COMPLETING", "UNKNOWN"):
            tags[STATE_TAG] = state.state
            if state.reason:
                tags[REASON_TAG] = state.reason
        store.set_tags(run_id, tags)

    def reconcile(self, store: Store, runs: Sequence[Run]) -> list[Run]:
        jobs = {
            run.info.run_id: run.tags[JOB_ID_TAG]
            for run in runs
            if run.tags.get(JOB_ID_TAG) and run.info.status not in TERMINAL_STATUSES
        }
        queued = commands.queue_states(sorted(set(jobs.values())))  # one squeue for all
        # SCHEDULED while pending, RUNNING once the node step started it: left as they are
        return [
            _end_if_gone(store, run.info.run_id, jobs[run.info.run_id])
            if run.info.run_id in jobs and jobs[run.info.run_id] not in queued
            else run
            for run in runs
        ]


def _end_if_gone(store: Store, run_id: str, job_id: str) -> Run:
    """A run whose job has left the queue, ended from Slurm's account unless the node step has
    just ended it."""
    run = store.get_run(run_id)
    if run.info.status not in TERMINAL_STATUSES:
        end_from_slurm(store, run_id, job_id)
        run = store.get_run(run_id)
    return run


def submit_script(
    store: Store, run_id: str, script: str, output_dir: Path, config: SlurmConfig
) -> str:
    """Save the batch script with the run (slurm/job.sh), sbatch it, and tag the run with the
    job id; return the job id. A single run and a sweep's array job go the same way."""
    store.write_artifact(run_id, "slurm/job.sh", script.encode())
    path = output_dir / "job.sh"  # the artifact itself when the artifacts are local
    if not path.is_file():
        path.write_text(script)
    job_id = commands.sbatch(str(path), config.sbatch_args)
    store.set_tags(run_id, {JOB_ID_TAG: job_id})
    return job_id


def end_from_slurm(store: Store, run_id: str, job_id: str, state: str | None = None) -> str:
    """End a run whose job is gone without the node step ending it, with Slurm's reason."""
    found = commands.job_state(job_id)
    name = state or found.state
    tags = {STATE_TAG: name}
    reason = found.reason or ("job ended before mlproj could end the run" if not state else "")
    if reason:
        tags[REASON_TAG] = reason
    store.set_tags(run_id, tags)
    # when Slurm ended the job, not when someone asked: `runs list` may come hours later
    end_time = slurm_end_time(found, store.get_run(run_id).info.start_time, now_ms())
    return finish_run(store, run_id, run_status_for(name), end_time)


def slurm_end_time(found: commands.JobState, start_time: int | None, now: int) -> int | None:
    """The job's EndTime as the run's end, or None (the caller's now) while the job may still
    run (EndTime is then its projected end), when Slurm has none, or when it lies in the future
    or before the run started (the controller's clock and this host's apart). Slurm counts whole
    seconds, so an end within the second the run started in is the start itself."""
    end = found.end_time
    if end is None or found.state in commands.ACTIVE_STATES or end > now:
        return None
    if start_time is None:
        return end
    if end + 1000 <= start_time:
        return None
    return max(end, start_time)


def _output_dir(prepared: PreparedRun, config: SlurmConfig) -> Path:
    return output_dir_for(prepared.run_id, prepared.artifact_uri, config)


def output_dir_for(run_id: str, artifact_uri: str, config: SlurmConfig) -> Path:
    """The job's stdout/stderr (and job.sh), created: see output_path."""
    directory = output_path(run_id, artifact_uri, config)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def output_path(run_id: str, artifact_uri: str, config: SlurmConfig) -> Path:
    """The configured directory, else with the run's artifacts when they are on a (shared)
    path, so the run keeps them, else a per-user directory."""
    if config.output_dir:
        return Path(os.path.expanduser(config.output_dir)).resolve() / run_id
    if local_artifacts.is_local(artifact_uri):
        return Path(local_artifacts.local_path(artifact_uri)) / "slurm"
    return Path.home() / ".mlproj" / "slurm" / run_id


class _Tail:
    """Print what the job appends to its output files."""

    def __init__(self, files: Mapping[str, Path]) -> None:
        self._files = files
        self._sent = dict.fromkeys(files, 0)

    def pump(self) -> None:
        for stream, path in self._files.items():
            try:
                with path.open("rb") as handle:
                    handle.seek(self._sent[stream])
                    data = handle.read()
            except FileNotFoundError:  # the job has not started yet
                continue
            if data:
                self._sent[stream] += len(data)
                out = sys.stdout if stream == "stdout" else sys.stderr
                out.buffer.write(data)
                out.flush()


class SlurmRun:
    """A submitted Slurm job; the handle `mlproj run -b slurm` waits on."""

    def __init__(
        self, store: Store, run_id: str, job_id: str, output_dir: Path, config: SlurmConfig
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._job_id = job_id
        self._config = config
        self._tail = _Tail(
            {
                "stdout": output_dir / f"slurm-{job_id}.out",
                "stderr": output_dir / f"slurm-{job_id}.err",
            }
        )

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def job_id(self) -> str:
        return self._job_id

    def get_status(self) -> str:
        run = self._store.get_run(self._run_id)
        return BACKEND.reconcile(self._store, [run])[0].info.status

    def wait(self) -> bool:
        try:
            return self._follow(deadline=None) == "FINISHED"
        except KeyboardInterrupt:
            output.important(f"interrupted: cancelling job {self._job_id}")
            self.cancel()
            return False

    def cancel(self) -> None:
        commands.scancel(self._job_id)
        try:  # the node step ends the run KILLED within the grace period; show its last words
            status = self._follow(deadline=time.monotonic() + self._config.grace + 60)
        except KeyboardInterrupt:
            status = None
        if status not in TERMINAL_STATUSES:
            end_from_slurm(self._store, self._run_id, self._job_id, state="CANCELLED")

    def _follow(self, deadline: float | None) -> str | None:
        """Stream the job's output until the job has left the queue; return the run's status
        then, ending the run from Slurm's account if the node step could not."""
        next_queue_check = 0.0
        while deadline is None or time.monotonic() < deadline:
            self._tail.pump()
            if time.monotonic() >= next_queue_check:
                if commands.queue_state(self._job_id) is None:
                    self._tail.pump()
                    status = self._status()
                    if status in TERMINAL_STATUSES:
                        return status
                    return end_from_slurm(self._store, self._run_id, self._job_id)
                next_queue_check = time.monotonic() + _QUEUE_POLL
            time.sleep(_POLL)
        return self._status()

    def _status(self) -> str:
        try:
            return self._store.get_run(self._run_id).info.status
        except TrackingError:
            return "RUNNING"  # a meta file caught mid-rewrite: ask again on the next poll


BACKEND = SlurmBackend()
