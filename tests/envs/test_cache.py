"""The env cache: reuse, locking between processes, interrupted builds, listing and pruning."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlproj.envs import cache
from mlproj.errors import EnvError
from tests.helpers import wait_until

# A builder process: builds env KEY with a build function that counts its calls in COUNTER and
# sleeps SLEEP seconds halfway (so that a test can run several at once or kill one mid-build).
BUILDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mlproj.envs.cache import ensure_env

    key, counter, sleep = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    relocatable = sys.argv[4]

    def build(path: Path) -> None:
        with open(counter, "a") as fh:
            fh.write("build\\n")
        (path / "half").write_text("x")
        time.sleep(sleep)
        (path / "payload").write_text("done")

    out = ensure_env("test", key, build, health=lambda p: (p / "payload").is_file(),
                     relocatable=relocatable == "1")
    print(out, flush=True)
    """
)


def _healthy(path: Path) -> bool:
    return (path / "payload").is_file()


def _build(path: Path) -> None:
    (path / "payload").write_text("done")


def _key(name: str) -> str:
    return cache.env_key({"test": name})


def test_env_key_is_sha256_of_canonical_json() -> None:
    import hashlib

    doc = {"b": [1, 2], "a": {"y": 1, "x": "é"}}
    expected = hashlib.sha256(
        json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert cache.env_key(doc) == expected
    assert cache.env_key({"a": {"x": "é", "y": 1}, "b": [1, 2]}) == expected
    assert cache.env_key({"b": [2, 1], "a": {"y": 1, "x": "é"}}) != expected


@pytest.mark.parametrize("relocatable", [True, False])
def test_cold_build_then_reuse(relocatable: bool) -> None:
    calls: list[Path] = []

    def build(path: Path) -> None:
        calls.append(path)
        _build(path)

    key = _key("reuse")
    first = cache.ensure_env(
        "test", key, build, health=_healthy, meta={"python": "3.11"}, relocatable=relocatable
    )
    assert first == cache.env_path(key)
    assert (first / "payload").read_text() == "done"
    marker = json.loads((first / cache.MARKER).read_text())
    assert marker["manager"] == "test" and marker["key"] == key
    assert marker["meta"] == {"python": "3.11"}
    assert (calls[0] == first) is not relocatable  # in place only when not relocatable

    stamp = (first / cache.MARKER).stat()
    second = cache.ensure_env("test", key, build, health=_healthy)
    assert second == first and len(calls) == 1
    # reuse writes nothing: the marker is neither rewritten nor replaced
    assert (first / cache.MARKER).stat().st_mtime_ns == stamp.st_mtime_ns
    assert (first / cache.MARKER).stat().st_ino == stamp.st_ino
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("relocatable", [True, False])
def test_failed_build_leaves_nothing_ready(relocatable: bool) -> None:
    key = _key("fails")

    def build(path: Path) -> None:
        (path / "half").write_text("x")
        raise EnvError("boom")

    with pytest.raises(EnvError, match="boom"):
        cache.ensure_env("test", key, build, health=_healthy, relocatable=relocatable)
    assert not cache.env_path(key).exists()
    assert not [p for p in cache.envs_root().iterdir() if p.is_dir()]
    assert cache.list_envs() == []


def test_unhealthy_build_is_refused_and_unhealthy_env_rebuilt() -> None:
    key = _key("unhealthy")
    with pytest.raises(EnvError, match="health check"):
        cache.ensure_env("test", key, lambda p: None, health=_healthy)
    assert not cache.env_path(key).exists()

    path = cache.ensure_env("test", key, _build, health=_healthy)
    (path / "payload").unlink()  # the env broke after it was built
    rebuilt: list[Path] = []

    def build_again(p: Path) -> None:
        rebuilt.append(p)
        _build(p)

    cache.ensure_env("test", key, build_again, health=_healthy)
    assert len(rebuilt) == 1 and _healthy(path)


def _spawn(key: str, counter: Path, sleep: float, relocatable: bool) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", BUILDER, key, str(counter), str(sleep), "1" if relocatable else "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("relocatable", [True, False])
def test_concurrent_processes_build_once(tmp_path: Path, relocatable: bool) -> None:
    key, counter = _key("concurrent"), tmp_path / "count"
    procs = [_spawn(key, counter, 0.5, relocatable) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    assert {out.strip() for out, _ in outs} == {str(cache.env_path(key))}
    assert counter.read_text().count("build") == 1


@pytest.mark.parametrize("relocatable", [True, False])
def test_killed_build_is_rebuilt_cleanly(tmp_path: Path, relocatable: bool) -> None:
    key, counter = _key("killed"), tmp_path / "count"
    victim = _spawn(key, counter, 30, relocatable)
    wait_until(counter.exists, 20, 0.02, what="the builder started", process=victim)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=10)  # reaps it and closes its pipes
    assert not cache.is_ready(key)
    assert cache.list_envs() == []

    path = cache.ensure_env("test", key, _build, health=_healthy, relocatable=relocatable)
    assert _healthy(path) and not (path / "half").exists()  # nothing of the dead build left
    assert [p.name for p in cache.envs_root().iterdir() if p.is_dir()] == [key]


def test_list_remove_prune() -> None:
    keys = [_key(str(i)) for i in range(3)]
    for key in keys:
        cache.ensure_env("test", key, _build, health=_healthy, meta={"n": key[:4]})
    listed = {env.key: env for env in cache.list_envs()}
    assert set(listed) == set(keys)
    assert all(env.size_bytes >= 4 and env.manager == "test" for env in listed.values())

    removed = cache.remove_env(keys[0][:10])
    assert removed.key == keys[0] and not removed.path.exists()
    with pytest.raises(EnvError, match="no cached environment"):
        cache.remove_env(keys[0])

    old = time.time() - 3 * 86400
    os.utime(cache.env_path(keys[1]) / cache.LAST_USED, (old, old))
    pruned = cache.prune(86400)
    assert [env.key for env in pruned] == [keys[1]]
    assert [env.key for env in cache.list_envs()] == [keys[2]]


def test_ambiguous_prefix_is_refused() -> None:
    made: list[str] = []
    i = 0
    while len({k[0] for k in made}) == len(made) and i < 100:  # two keys sharing a first char
        made.append(_key(f"amb{i}"))
        i += 1
    for key in made:
        cache.ensure_env("test", key, _build, health=_healthy)
    first = next(k[0] for k in made if sum(m[0] == k[0] for m in made) > 1)
    with pytest.raises(EnvError, match="matches"):
        cache.remove_env(first)


def test_prune_sweeps_leftovers_of_dead_builders() -> None:
    key = _key("leftover")
    leftover = cache.envs_root() / f".tmp-{key}-abc123"
    leftover.mkdir()
    (leftover / "junk").write_text("x")
    cache.prune(10**9)
    assert not leftover.exists()
