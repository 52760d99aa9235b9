"""Broken and hostile files: always a one-line MlprojError (SpecError), never a traceback or
a hang. The same table goes through the MLproject loader, both env file loaders and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlproj._util.regular_file import read_regular
from mlproj.errors import SpecError
from mlproj.spec import load_conda_env, load_project, load_python_env, yamltree
from tests.helpers import run_cli

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)

# (id, file content, words the error must contain)
BROKEN: list[tuple[str, bytes, str]] = [
    ("binary junk", bytes(range(256)) * 4, "binary file"),
    ("binary junk without NUL", b"\x89PNG\r\n\x1a\n\xff\xfe\xfd" * 50, "not UTF-8"),
    ("empty file", b"", "empty"),
    ("only a comment", b"# nothing here\n", "empty"),
    ("10 MB file", b"name: x\n" + b"# padding padding padding\n" * 400_000, "larger than 1024 KiB"),
    ("deep flow nesting", b"a: " + b"[" * 200_000 + b"]" * 200_000, "nesting deeper than 64"),
    (
        "deep block nesting",
        "".join(" " * i + f"k{i}:\n" for i in range(200)).encode(),
        "nesting deeper than 64",
    ),
    ("non-UTF-8 bytes", b"name: caf\xe9\nentry_points: {}\n", "not UTF-8 text (byte 0xe9)"),
    ("tabs", b"entry_points:\n\tmain:\n\t\tcommand: x\n", "indent with spaces"),
    ("YAML bomb", BOMB.encode(), "aliases expand to more than 100000 values"),
    ("too many values", ("a: [" + "1, " * 150_000 + "1]\n").encode(), "holds more than"),
    ("recursive alias", b"a: &a [1, *a]\n", "recursive"),
    ("undefined alias", b"a: *nope\n", "alias *nope names no anchor"),
    ("python tag", b"a: !!python/object/apply:os.system [id]\n", "unsupported YAML tag"),
    ("custom tag", b"a: !secret x\n", "unsupported YAML tag"),
    ("two documents", b"a: 1\n---\nb: 2\n", "second YAML document"),
    ("control character", b"a: \x07\n", "control characters are not allowed"),
    ("unclosed quote", b"a: 'x\n", "YAML syntax error"),
    ("bad timestamp", b"a: 2024-13-45\n", "month must be in 1..12"),
    ("list as a key", b"? [a, b]\n: 1\n", "used as a mapping key"),
    ("a top-level list", b"- a\n- b\n", "mapping"),
    ("a top-level string", b"just some text\n", "mapping"),
    (
        "Git LFS pointer",
        b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 3\n",
        "Git LFS pointer",
    ),
]
IDS = [case[0] for case in BROKEN]


def _mlproject(tmp_path: Path, data: bytes) -> Any:
    (tmp_path / "MLproject").write_bytes(data)
    return load_project(tmp_path)


def _conda(tmp_path: Path, data: bytes) -> Any:
    (tmp_path / "conda.yaml").write_bytes(data)
    return load_conda_env(tmp_path / "conda.yaml")


def _python_env(tmp_path: Path, data: bytes) -> Any:
    (tmp_path / "python_env.yaml").write_bytes(data)
    return load_python_env(tmp_path / "python_env.yaml")


LOADERS: dict[str, Callable[[Path, bytes], Any]] = {
    "MLproject": _mlproject,
    "conda": _conda,
    "python_env": _python_env,
}


# What refusing any file of the table may take from the parser: the values up to MAX_NODES, the
# collections open around them (at most MAX_DEPTH) and the stream/document marks. The hostile
# files hold far more (150 000 values, 200 000 nested lists) or expand to far more (the bomb).
EVENT_BUDGET = yamltree.MAX_NODES + yamltree.MAX_DEPTH + 4


@dataclass
class Work:
    """What a load read: bytes from the file, events from the (real) YAML parser."""

    bytes_read: int = 0
    events: int = 0


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    """Counts what the loaders read, through the real reader and parser."""
    counted = Work()
    events = yamltree._events

    def counting_read(path: Path, limit: int | None = None) -> bytes:
        data = read_regular(path, limit)
        counted.bytes_read += len(data)
        return data

    def counting_events(text: str) -> Iterator[object]:
        for event in events(text):
            counted.events += 1
            yield event

    monkeypatch.setattr(yamltree, "read_regular", counting_read)
    monkeypatch.setattr(yamltree, "_events", counting_events)
    return counted


@pytest.mark.timeout(20)
@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("data,words", [c[1:] for c in BROKEN], ids=IDS)
def test_broken_files_give_a_clear_spec_error(
    tmp_path: Path, loader: str, data: bytes, words: str, work: Work
) -> None:
    with pytest.raises(SpecError) as info:
        LOADERS[loader](tmp_path, data)
    # refused as it is read, whatever its size, nesting or aliases: bounded work, not seconds
    # (speed is measured in benchmarks/)
    assert work.bytes_read <= yamltree.MAX_BYTES + 1
    assert work.events <= EVENT_BUDGET
    assert words in info.value.one_line()
    assert "\n" not in info.value.one_line()
    assert ":" in info.value.message.split(" ")[0]  # starts with FILE:LINE:COL


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "data,words",
    [c[1:] for c in BROKEN if len(c[1]) < 100_000],
    ids=[c[0] for c in BROKEN if len(c[1]) < 100_000],
)
def test_cli_reports_them_without_traceback(tmp_path: Path, data: bytes, words: str) -> None:
    (tmp_path / "MLproject").write_bytes(data)
    for args in (["validate", str(tmp_path)], ["describe", str(tmp_path)]):
        result = run_cli(args)
        assert result.returncode == 1
        assert words in result.stdout + result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_crlf_line_endings_read_like_lf(tmp_path: Path) -> None:
    text = (
        "name: crlf\nconda_env: conda.yaml\nentry_points:\n  main:\n    parameters:\n"
        "      a: {type: float, default: 0.5}\n    command: |\n      python t.py {a}\n"
        "      echo done\n"
    )
    (tmp_path / "lf").mkdir()
    (tmp_path / "crlf").mkdir()
    for name, newline in (("lf", "\n"), ("crlf", "\r\n")):
        (tmp_path / name / "MLproject").write_bytes(text.replace("\n", newline).encode())
        (tmp_path / name / "conda.yaml").write_bytes(
            "dependencies:\n  - python=3.11\n".replace("\n", newline).encode()
        )
    lf, crlf = load_project(tmp_path / "lf"), load_project(tmp_path / "crlf")
    assert lf.entry_points == crlf.entry_points
    assert crlf.entry_points["main"].command == "python t.py {a}\necho done\n"
    assert load_conda_env(tmp_path / "crlf" / "conda.yaml").dependencies == ("python=3.11",)


def test_utf16_and_bom_files_are_read(tmp_path: Path) -> None:
    text = "name: café\nentry_points: {main: {command: echo é}}\n"
    for i, data in enumerate([text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode()]):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / "MLproject").write_bytes(data)
        assert load_project(tmp_path / str(i)).name == "café"


def test_a_bad_byte_after_a_bom_is_placed_where_it_is(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_bytes(b"\xef\xbb\xbfname: x\nentry_points: caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_project(tmp_path)
    assert caught.value.one_line().startswith(f"{tmp_path / 'MLproject'}:2:18: ")
    assert "not UTF-8 text (byte 0xe9)" in caught.value.one_line()


def test_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text(
        "x-p: &p {a: {type: int, default: 1}}\nentry_points:\n"
        "  one:\n    parameters: *p\n    command: echo {a}\n"
        "  two:\n    parameters: {<<: *p, b: float}\n    command: echo {a} {b}\n"
    )
    project = load_project(tmp_path)
    assert [p.name for p in project.entry_points["two"].parameters] == ["a", "b"]
    assert project.entry_points["one"].parameters == project.entry_points["two"].parameters[:1]


def test_a_directory_named_mlproject(tmp_path: Path) -> None:
    (tmp_path / "MLproject").mkdir()
    with pytest.raises(SpecError, match="cannot read the file"):
        load_project(tmp_path)


def test_missing_project_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such directory"):
        load_project(tmp_path / "nope")
