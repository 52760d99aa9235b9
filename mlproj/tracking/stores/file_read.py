"""Fast reading of file-store runs, for `mlproj runs list` over thousands of runs.

A run's params, tags and metrics are returned as lazy mappings: looking up one key reads one
file, and only iterating reads the whole folder. Listing 1,000 runs sorted by start time then
reads 1,000 meta.yaml files plus the files of the runs actually shown, instead of ~26,000.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from mlproj.tracking.base import Metric
from mlproj.tracking.stores import metafile
from mlproj.tracking.stores.local_artifacts import TMP_PREFIX

T = TypeVar("T")

_SAFE_KEY = re.compile(r"(?!/)(?!.*(?:^|/)\.{1,2}(?:/|$))[/\w.\- :]+\Z")


def read_meta(path: str) -> dict[str, Any] | None:
    """A meta.yaml as a dict; None when missing, corrupt or (after a short retry) empty.

    MLflow rewrites meta.yaml in place (a child's `start_run` does), so a reader can catch it
    empty for a moment: retry briefly, as MLflow's own reader does.
    """
    for attempt in range(3):
        try:
            text = metafile.read_text(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError):
            return None
        if text.strip():
            try:
                return metafile.parse_meta(text)
            except ValueError:  # not YAML, not a mapping, not UTF-8: not a usable run
                return None
        time.sleep(0.02 * (attempt + 1))
    return None


Report = Callable[[str, str], None]  # (path, what is wrong) of a damaged file


def _ignore(path: str, what: str) -> None:
    pass


def read_values(folder: str, prefix: str = "", report: Report = _ignore) -> dict[str, str]:
    """Every file under `folder` as key -> content; sub-folders give `a/b` keys.

    A file that is not UTF-8 is left out and reported: one damaged tag must not hide a run."""
    values: dict[str, str] = {}
    try:
        entries = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return values
    read = metafile.read_text
    with entries:
        for entry in entries:
            name = entry.name
            if entry.is_dir():
                values.update(read_values(entry.path, f"{prefix}{name}/", report))
            elif not name.startswith(TMP_PREFIX):
                try:
                    values[prefix + name] = read(entry.path)
                except FileNotFoundError:  # deleted since the listing
                    pass
                except UnicodeDecodeError as exc:
                    report(entry.path, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})")
    return values


def parse_metric_line(key: str, line: str) -> Metric | None:
    """`<ts> <value> [<step> [<dataset> <digest>]]`; None for a malformed (e.g. partial) line."""
    fields = line.split()
    if len(fields) not in (2, 3, 5):
        return None
    try:
        step = int(fields[2]) if len(fields) >= 3 else 0
        return Metric(key, float(fields[1]), int(fields[0]), step)
    except ValueError:
        return None


def latest_value(text: str) -> float | None:
    """MLflow's "latest" point of a metric file: the largest (step, timestamp, value)."""
    best: tuple[int, int, float] | None = None
    for line in text.splitlines():
        fields = line.split()
        count = len(fields)
        if count != 3 and count != 2 and count != 5:
            continue
        try:
            point = (int(fields[2]) if count > 2 else 0, int(fields[0]), float(fields[1]))
        except ValueError:
            continue
        if best is None or point > best:
            best = point
    return None if best is None else best[2]


def _read_one(folder: str, key: str, report: Report) -> str | None:
    if not _SAFE_KEY.match(key):
        return None
    path = os.path.join(folder, key)
    try:
        return metafile.read_text(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except UnicodeDecodeError as exc:
        report(path, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})")
        return None


class LazyFolder(Mapping[str, T]):
    """A run's params, tags or metrics folder as key -> parsed value, read on demand.

    `parse` turns a file's text into the value; None leaves the key out (e.g. an empty metric).
    """

    __slots__ = ("_all", "_folder", "_parse", "_report", "_some")

    def __init__(
        self, folder: str, parse: Callable[[str], T | None], report: Report = _ignore
    ) -> None:
        self._folder = folder
        self._parse = parse
        self._report = report
        self._all: dict[str, T] | None = None
        self._some: dict[str, T | None] = {}

    def _load(self) -> dict[str, T]:
        if self._all is None:
            parsed = {
                k: self._parse(text)
                for k, text in read_values(self._folder, report=self._report).items()
            }
            self._all = {k: v for k, v in parsed.items() if v is not None}
        return self._all

    def __getitem__(self, key: str) -> T:
        if self._all is not None:
            return self._all[key]
        if key not in self._some:
            text = _read_one(self._folder, key, self._report)
            self._some[key] = None if text is None else self._parse(text)
        value = self._some[key]
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return repr(self._load())


def lazy_values(folder: str, report: Report = _ignore) -> LazyFolder[str]:
    """Params or tags: the raw file contents."""
    return LazyFolder(folder, _as_is, report)


def lazy_metrics(folder: str, report: Report = _ignore) -> LazyFolder[float]:
    """Metrics: the latest value of each metric file."""
    return LazyFolder(folder, latest_value, report)


def _as_is(text: str) -> str:
    return text
