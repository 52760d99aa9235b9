"""`mlproj runs diff A B`: why two runs differ (params, source, environment, versions, metrics).

A and B may live in different stores (`STORE_URI#RUN_ID` or an MLflow UI run URL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlproj.commands.runs.lockpkgs import Pin, locked_packages
from mlproj.commands.runs.metricdiff import MetricRow, compare_metrics, render_rows, rows_json
from mlproj.commands.runs.table import fmt_duration
from mlproj.errors import MlprojError
from mlproj.tracking.base import Run, Store

_VERSION_TAGS = {
    "mlproj": "mlproj.version",
    "python": "mlproj.python.version",
    "env python": "mlproj.env.python",
    "platform": "mlproj.platform",
    "host": "mlproj.host",
    "env manager": "mlproj.env.manager",
    "env key": "mlproj.env.key",
    "lock sha256": "mlproj.env.lock_sha256",
}
_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/", re.MULTILINE)


@dataclass(frozen=True)
class Side:
    store: Store
    run: Run


@dataclass(frozen=True)
class KeyedDiff:
    changed: dict[str, tuple[str, str]]
    added: dict[str, str]  # only in B
    removed: dict[str, str]  # only in A

    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed)

    def as_json(self) -> dict[str, Any]:
        return {
            "changed": {k: list(v) for k, v in self.changed.items()},
            "added": self.added,
            "removed": self.removed,
        }


def keyed_diff(a: Mapping[str, str], b: Mapping[str, str]) -> KeyedDiff:
    return KeyedDiff(
        changed={k: (a[k], b[k]) for k in sorted(set(a) & set(b)) if a[k] != b[k]},
        added={k: b[k] for k in sorted(set(b) - set(a))},
        removed={k: a[k] for k in sorted(set(a) - set(b))},
    )


def package_diff(a: Mapping[str, Pin], b: Mapping[str, Pin]) -> dict[str, Any]:
    """Versions added, removed and changed, and (`hash_changed`) the packages whose version
    is the same but whose recorded hashes differ: another file was installed under that name."""
    versions = keyed_diff(
        {k: pin.version for k, pin in a.items()}, {k: pin.version for k, pin in b.items()}
    )
    return {
        **versions.as_json(),
        "hash_changed": {
            k: {"version": a[k].version, "hashes": [sorted(a[k].hashes), sorted(b[k].hashes)]}
            for k in sorted(set(a) & set(b))
            if a[k].version == b[k].version and a[k].other_file(b[k])
        },
    }


def diff_runs(a: Side, b: Side) -> dict[str, Any]:
    """Everything that differs, as JSON-able data (rendered by `render`)."""
    locks = [locked_packages(s.store, s.run) for s in (a, b)]
    ta, tb = a.run.tags, b.run.tags
    return {
        "runs": [_run_summary(s) for s in (a, b)],
        "params": keyed_diff(a.run.params, b.run.params).as_json(),
        "source": _source(a, b),
        "environment": {
            "locks": [locks[0].lock, locks[1].lock],
            "pip_locks": [locks[0].pip_lock, locks[1].pip_lock],
            "hash_locks": [locks[0].hash_lock, locks[1].hash_lock],
            **package_diff(locks[0].pins, locks[1].pins),
        },
        "versions": {
            name: [ta.get(tag), tb.get(tag)]
            for name, tag in _VERSION_TAGS.items()
            if ta.get(tag) != tb.get(tag)
        },
        "metrics": rows_json(compare_metrics(a.run.metrics, b.run.metrics)),
    }


def _run_summary(side: Side) -> dict[str, Any]:
    info = side.run.info
    return {
        "store": side.store.uri,
        "run_id": info.run_id,
        "status": info.status,
        "duration": fmt_duration(info.start_time, info.end_time),
        "duration_ms": (info.end_time - info.start_time)
        if info.start_time and info.end_time
        else None,
    }


def _source(a: Side, b: Side) -> dict[str, Any]:
    ca, cb = (s.run.tags.get("mlflow.source.git.commit") for s in (a, b))
    urls = [
        s.run.tags.get("mlproj.source.uri") or s.run.tags.get("mlflow.source.name") for s in (a, b)
    ]
    data: dict[str, Any] = {
        "commit": [ca, cb],
        "uri": urls,
        "dirty": [s.run.tags.get("mlproj.git.dirty") for s in (a, b)],
        "dirty_files": [_dirty_files(s) for s in (a, b)],
        "content_sha256": [s.run.tags.get("mlproj.source.sha256") for s in (a, b)],
    }
    if ca and cb and ca != cb and urls[0] == urls[1] and urls[0]:
        data["stat"] = _commit_stat(urls[0], ca, cb)
    return data


def _dirty_files(side: Side) -> list[str]:
    if side.run.tags.get("mlproj.git.dirty") != "true":
        return []
    try:
        text = side.store.read_artifact(side.run.info.run_id, "mlproj/git.diff").decode(
            "utf-8", "replace"
        )
    except MlprojError:
        return []
    return _DIFF_FILE.findall(text)


def _commit_stat(url: str, a: str, b: str) -> str | None:
    """`git diff --stat A B` from the cached clone of `url`, when this machine has one."""
    from mlproj.sources.git.cmd import GitFailed, run_git
    from mlproj.sources.git.store import RepoCache

    cache = RepoCache(url, url, local=True)
    if not (cache.has_commit(a) and cache.has_commit(b)):
        return None
    try:
        return run_git([f"--git-dir={cache.bare}", "diff", "--stat", a, b]).rstrip()
    except GitFailed:
        return None


def render(data: dict[str, Any]) -> str:
    a, b = data["runs"]
    lines = [
        f"A  {a['run_id']}  {a['status']}  {a['duration']}  ({a['store']})",
        f"B  {b['run_id']}  {b['status']}  {b['duration']}  ({b['store']})",
        "",
    ]
    lines += _keyed("params", data["params"])
    src = data["source"]
    lines.append("source:")
    for field in ("uri", "commit", "dirty", "content_sha256"):
        va, vb = src[field]
        if va == vb:
            lines.append(f"  {field}: {va or '-'}")
        else:
            lines.append(f"  {field}: {va or '-'} -> {vb or '-'}   <- differs")
    for label, files in zip(("A", "B"), src["dirty_files"], strict=True):
        if files:
            lines.append(f"  uncommitted changes in {label}: {', '.join(files)}")
    if src.get("stat"):
        lines += ["  git diff --stat:", *(f"    {x}" for x in src["stat"].splitlines())]
    env = data["environment"]
    lines.append(f"environment (from {_read_from(env, 0)} / {_read_from(env, 1)}):")
    lines += _only_one(env["pip_locks"], "pip: section pinned")
    if env["locks"][0] == env["locks"][1]:  # a conda env's own lock has its hashes
        lines += _only_one(
            env["hash_locks"],
            "hashes recorded",
            ": a file changed under the same version would not show",
        )
    lines += _keyed_body(env, "  ")
    if data["versions"]:
        lines.append("versions:")
        for name, (va, vb) in data["versions"].items():
            lines.append(f"  {name}: {va or '-'} -> {vb or '-'}")
    lines.append("metrics:")
    rows = [MetricRow(**m) for m in _renamed(data["metrics"])]
    lines += ["  " + x for x in render_rows(rows, ("A", "B")).splitlines()]
    return "\n".join(lines)


def _only_one(artifacts: list[str | None], what: str, why: str = "") -> list[str]:
    """`pip: section pinned only in A (B recorded no ...)`, when one run recorded it."""
    if bool(artifacts[0]) == bool(artifacts[1]):
        return []
    side, other = ("A", "B") if artifacts[0] else ("B", "A")
    return [f"  {what} only in {side} ({other} recorded no {artifacts[0] or artifacts[1]}){why}"]


def _read_from(env: dict[str, Any], side: int) -> str:
    lock, hashes = env["locks"][side], env["hash_locks"][side]
    read = [f"{lock} (hashes: {hashes})" if hashes else lock, env["pip_locks"][side]]
    return " + ".join(x for x in read if x) or "no lock"


def _renamed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "key": f"metrics.{r['key']}"} for r in rows]


def _keyed(title: str, diff: dict[str, Any]) -> list[str]:
    body = _keyed_body(diff, "  ")
    return [f"{title}:", *body]


def _short(hashes: set[str], most: int = 2) -> str:
    """`sha256:0123456789ab`, enough of a hash to tell two apart."""
    shown = [f"{k}:{v[:12]}" for k, _, v in (h.partition(":") for h in sorted(hashes))]
    more = f" +{len(shown) - most} more" if len(shown) > most else ""
    return ", ".join(shown[:most]) + more if shown else "-"


def _keyed_body(diff: dict[str, Any], pad: str) -> list[str]:
    lines = [f"{pad}{k}: {va} -> {vb}" for k, (va, vb) in diff["changed"].items()]
    lines += [f"{pad}+ {k}: {v}" for k, v in diff["added"].items()]
    lines += [f"{pad}- {k}: {v}" for k, v in diff["removed"].items()]
    for k, change in diff.get("hash_changed", {}).items():
        a, b = (set(x) for x in change["hashes"])
        lines.append(
            f"{pad}! {k}: {change['version']}, same version but another file"
            f" ({_short(a - b)} -> {_short(b - a)})"
        )
    return lines or [f"{pad}(same)"]
