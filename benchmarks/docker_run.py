"""A cached docker run: mlproj's prepare + launch vs the same container started by hand.

    DOCKER_HOST=unix:///... python benchmarks/docker_run.py [--repeat 5] [--command "true"]

Both sides run `bash -c COMMAND` in the same image with the same mounts and environment,
wait for it and remove the container:
- by hand: `client.containers.run(image, ..., remove=True)` with the SDK (what `docker run`
  does), on the image mlproj built;
- mlproj:  MANAGER.prepare() (hashes the project, finds its image: no build) + launch() + wait()
           + close(), as `mlproj run` does for the second run of an unchanged project.
The first prepare (which builds the image) is not timed. Prints medians and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlproj import spec
from mlproj._util.record import replace
from mlproj.envs.base import EnvOptions
from mlproj.envs.docker.manager import MANAGER
from mlproj.proc import LaunchRequest

RESOURCE = Path(__file__).resolve().parent.parent / "tests" / "resources" / "docker_project"


class NullSink:
    def write(self, stream: str, data: bytes) -> None:
        pass


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def mlproj_run(project: Any, options: EnvOptions, command: str) -> None:
    prepared = MANAGER.prepare(project, options)
    env = {**os.environ, "MLFLOW_RUN_ID": "bench"}
    execution = prepared.launch(LaunchRequest(command, project.directory, env, NullSink()))
    try:
        code = execution.wait()
    finally:
        execution.close()
    assert code == 0, code


def by_hand(client: Any, tag: str, project: Any, command: str) -> None:
    client.containers.run(
        tag,
        ["bash", "-c", command],
        working_dir="/mlflow/projects/code",
        volumes=[f"{project.directory}/data:/data:ro"],
        environment={"GREETING": "x", "MLPROJ_TEST_SECRET": "x", "PYTHONUNBUFFERED": "1"},
        network_mode="none",
        init=True,
        remove=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--command", default="true")
    args = parser.parse_args()

    import docker

    client = docker.from_env()
    os.environ.setdefault("MLPROJ_TEST_SECRET", "bench")
    with tempfile.TemporaryDirectory(prefix="mlproj-bench-") as tmp:
        os.environ["MLPROJ_HOME"] = str(Path(tmp) / "home")
        project_dir = Path(tmp) / "docker_project"
        shutil.copytree(RESOURCE, project_dir)
        # a name of its own, so that removing the image at the end touches nothing else
        loaded = spec.load_project(project_dir)
        project = replace(loaded, name=f"bench-{os.getpid()}")
        options = EnvOptions(manager="docker", network="none")
        first = timed(lambda: mlproj_run(project, options, args.command))  # builds the image
        tag = MANAGER.prepare(project, options).image.tag
        by_hand(client, tag, project, args.command)  # warm the engine for both sides
        hand: list[float] = []
        ours: list[float] = []
        for _ in range(args.repeat):
            hand.append(timed(lambda: by_hand(client, tag, project, args.command)))
            ours.append(timed(lambda: mlproj_run(project, options, args.command)))
        prepare = [timed(lambda: MANAGER.prepare(project, options)) for _ in range(args.repeat)]
        client.images.remove(tag, force=True)

    hand_ms = statistics.median(hand) * 1000
    ours_ms = statistics.median(ours) * 1000
    print(f"command: bash -c {args.command!r}; image {tag}; {args.repeat} runs each")
    print(f"first mlproj run (builds the image): {first * 1000:8.1f} ms")
    print(f"docker run by hand (SDK):            {hand_ms:8.1f} ms")
    print(f"mlproj prepare+launch, cached image: {ours_ms:8.1f} ms")
    print(f"  of which prepare (no build):       {statistics.median(prepare) * 1000:8.1f} ms")
    print(f"ratio mlproj / by hand:              {ours_ms / hand_ms:8.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
