"""Read a small YAML file into a tree of nodes that remember where they were written.

PyYAML's own composer recurses and expands nothing, so a crafted file can exhaust the stack
or, once a caller walks it, memory (billion laughs). This composer works from the event
stream (libyaml's C parser when available), keeps an explicit stack, and refuses deep nesting,
oversized alias expansion and recursive aliases as it goes. Scalars are typed exactly as
`yaml.safe_load` types them (YAML 1.1: `yes` is True, `1e-3` is a string), and mappings keep
safe_load's semantics for merge keys (`<<`) and repeated keys (the last value wins).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from mlproj._util.regular_file import read_regular
from mlproj.spec.problems import Problem, ProblemError, Problems

MAX_BYTES = 1 << 20  # MLproject and env files are a few KiB; anything this big is a mistake
MAX_DEPTH = 64
MAX_NODES = 100_000  # counted with every alias expanded
LFS_POINTER = b"version https://git-lfs.github.com/spec/"

_PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"
_DEFAULT_TAGS = {
    "seq": (None, "!", "tag:yaml.org,2002:seq"),
    "map": (None, "!", "tag:yaml.org,2002:map"),
}


class Node:
    __slots__ = ("col", "line", "size")

    def __init__(self, line: int, col: int) -> None:
        self.line = line  # 0-based, as YAML marks count
        self.col = col
        self.size = 1  # nodes below and including this one, aliases expanded


class Scalar(Node):
    __slots__ = ("plain", "tag", "text", "value")

    def __init__(self, line: int, col: int, value: object, text: str, tag: str, plain: bool):
        super().__init__(line, col)
        self.value = value  # as yaml.safe_load types it
        self.text = text  # the characters written in the file
        self.tag = tag
        self.plain = plain  # unquoted (so `None` was meant as a keyword, not a word)


class Seq(Node):
    __slots__ = ("items",)

    def __init__(self, line: int, col: int) -> None:
        super().__init__(line, col)
        self.items: list[Node] = []


class Map(Node):
    __slots__ = ("pairs",)

    def __init__(self, line: int, col: int) -> None:
        super().__init__(line, col)
        self.pairs: list[tuple[Scalar, Node]] = []

    def get(self, key: str) -> tuple[Scalar, Node] | None:
        return next((pair for pair in self.pairs if pair[0].value == key), None)

    def value(self, key: str) -> Node | None:
        pair = self.get(key)
        return pair[1] if pair else None


def kind_name(node: Node | None) -> str:
    """How a user would call what they wrote: 'a mapping', 'a list', 'the string "x"'."""
    return _kind(node, with_text=True)


def kind_only(node: Node | None) -> str:
    """What a node is, without its text: a whole file that is not a mapping may be any file
    (`MLproject -> /etc/passwd`), and errors never echo a file's contents."""
    return _kind(node, with_text=False)


def _kind(node: Node | None, *, with_text: bool) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, Map):
        return "a mapping"
    if isinstance(node, Seq):
        return "a list"
    assert isinstance(node, Scalar)
    value = node.value
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {node.text}" if with_text else "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {node.text}" if with_text else "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if with_text else f"a string ({len(value)} characters)"
    name = type(value).__name__
    return f"a {name} ({node.text})" if with_text else f"a {name}"


def to_python(node: Node) -> Any:
    """The plain value of a node (dicts, lists, scalars), as yaml.safe_load gives it."""
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Seq):
        return [to_python(item) for item in node.items]
    assert isinstance(node, Map)
    return {key.value: to_python(value) for key, value in node.pairs}


# -- reading bytes --------------------------------------------------------------------------


def _fatal(file: Path, line: int, col: int, message: str, hint: str | None = None) -> ProblemError:
    return ProblemError(Problem(file, line + 1, col + 1, "error", message), hint)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n")
    col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace"))
    return line, col


def read_text(file: Path) -> str:
    """The file's text, refusing what cannot be an MLproject/env file (with the reason)."""
    try:
        data = read_regular(file, MAX_BYTES + 1)  # never blocks on a FIFO or /proc/self/fd/0
    except OSError as exc:
        raise _fatal(file, 0, 0, f"cannot read the file: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise _fatal(
            file,
            0,
            0,
            f"the file is larger than {MAX_BYTES // 1024} KiB; this is not a project description",
        )
    if data.startswith(LFS_POINTER):
        raise _fatal(
            file,
            0,
            0,
            "the file is a Git LFS pointer, not the file itself",
            "run `git lfs pull`, or commit the file without LFS",
        )
    return decode(file, data)


def decode(file: Path, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _fatal(
                file,
                0,
                0,
                "the file starts like UTF-16 but is not valid UTF-16",
                "save it as UTF-8",
            ) from None
    if b"\0" in data:
        line, col = _position(data, data.index(b"\0"))
        raise _fatal(file, line, col, "this is a binary file, not YAML text (NUL byte)")
    body = data.removeprefix(codecs.BOM_UTF8)  # as utf-8-sig would, without loading that codec
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = len(data) - len(body) + exc.start  # in the file, BOM included
        line, col = _position(data, offset)
        raise _fatal(
            file,
            line,
            col,
            f"the file is not UTF-8 text (byte 0x{data[offset]:02x})",
            "save it as UTF-8",
        ) from None


# -- composing ------------------------------------------------------------------------------


class _ScalarBuilder(SafeConstructor, Resolver):
    """safe_load's scalar typing, without its recursive composer."""

    def __init__(self) -> None:
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


_BUILDER = _ScalarBuilder()


class _Composer:
    def __init__(self, file: Path, problems: Problems | None) -> None:
        self.file = file
        self.problems = problems
        self.anchors: dict[str, Node] = {}
        self.stack: list[list[Any]] = []  # [open Seq/Map, pending mapping key or None]
        self.open_ids: set[int] = set()
        self.root: Node | None = None
        self.documents = 0

    def fail(self, mark: Any, message: str, hint: str | None = None) -> ProblemError:
        return _fatal(self.file, mark.line, mark.column, message, hint)

    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.fail(
                    event.start_mark,
                    "a second YAML document ('---') in the file",
                    "keep one document per file",
                )
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            self.attach(self.scalar(event), event)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self.start(event)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node = self.stack.pop()[0]
            self.open_ids.discard(id(node))
            if isinstance(node, Map):
                self.finish_map(node)
            self.attach(node, event)

    def alias(self, event: Any) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:
            raise self.fail(
                event.start_mark,
                f"alias *{event.anchor} names no anchor",
                f"define &{event.anchor} before using it",
            )
        if id(node) in self.open_ids:
            raise self.fail(
                event.start_mark,
                f"alias *{event.anchor} refers to a node that contains it (a recursive structure)",
            )
        self.attach(node, event)

    def register(self, event: Any, node: Node) -> None:
        if event.anchor is not None:
            self.anchors[event.anchor] = node

    def scalar(self, event: Any) -> Scalar:
        mark = event.start_mark
        tag = event.tag
        if tag in (None, "!"):
            tag = _BUILDER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        if tag == _MERGE:
            value: object = event.value
        else:
            construct = SafeConstructor.yaml_constructors.get(tag)
            if construct is None:
                raise self.fail(
                    mark, f"unsupported YAML tag {tag!r} on {event.value!r}", "remove the tag"
                )
            node = yaml.ScalarNode(tag, event.value, mark, event.end_mark, event.style)
            try:
                value = construct(_BUILDER, node)
            except Exception as exc:  # bad timestamps, !!int abc, !!binary junk...
                raise self.fail(mark, f"cannot read {event.value!r} as {tag}: {exc}") from None
        scalar = Scalar(mark.line, mark.column, value, event.value, tag, not event.style)
        self.register(event, scalar)
        return scalar

    def start(self, event: Any) -> None:
        is_map = isinstance(event, yaml.MappingStartEvent)
        if event.tag not in _DEFAULT_TAGS["map" if is_map else "seq"]:
            raise self.fail(
                event.start_mark, f"unsupported YAML tag {event.tag!r}", "remove the tag"
            )
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels")
        mark = event.start_mark
        node: Node = Map(mark.line, mark.column) if is_map else Seq(mark.line, mark.column)
        self.register(event, node)
        self.open_ids.add(id(node))
        self.stack.append([node, None])

    def attach(self, node: Node, event: Any) -> None:
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        parent = frame[0]
        parent.size += node.size
        if parent.size > MAX_NODES:
            why = "aliases expand to" if isinstance(event, yaml.AliasEvent) else "the file holds"
            raise self.fail(
                event.start_mark,
                f"{why} more than {MAX_NODES} values; refused "
                "(an alias bomb, or not a project file)",
            )
        if isinstance(parent, Seq):
            parent.items.append(node)
        elif frame[1] is None:
            if not isinstance(node, Scalar):
                raise _fatal(
                    self.file,
                    node.line,
                    node.col,
                    "a list or mapping used as a mapping key",
                    "keys must be plain words",
                )
            frame[1] = node
        else:
            parent.pairs.append((frame[1], node))
            frame[1] = None

    def finish_map(self, node: Map) -> None:
        """Apply merge keys and repeated keys as safe_load does (first position, last value)."""
        merged: list[tuple[Scalar, Node]] = []
        explicit: list[tuple[Scalar, Node]] = []
        for key, value in node.pairs:
            if key.tag != _MERGE:
                explicit.append((key, value))
                continue
            sources = value.items if isinstance(value, Seq) else [value]
            if not all(isinstance(src, Map) for src in sources):
                raise _fatal(
                    self.file,
                    value.line,
                    value.col,
                    "'<<' (merge) needs a mapping or a list of mappings",
                )
            for src in reversed(sources):
                assert isinstance(src, Map)
                merged.extend(src.pairs)
        self.warn_repeated(explicit)
        result: dict[Any, tuple[Scalar, Node]] = {}
        for key, value in merged + explicit:
            first = result.get(key.value)
            result[key.value] = (first[0] if first else key, value)
        node.pairs = list(result.values())

    def warn_repeated(self, pairs: list[tuple[Scalar, Node]]) -> None:
        seen: dict[Any, Scalar] = {}
        for key, _ in pairs:
            first = seen.setdefault(key.value, key)
            if first is not key and self.problems is not None:
                self.problems.warn(
                    key.line,
                    key.col,
                    f"duplicate key '{key.text}' (first at "
                    f"line {first.line + 1}); YAML keeps only the last value",
                )


def _syntax_error(file: Path, text: str, exc: yaml.YAMLError) -> ProblemError:
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line, col = before.count("\n"), exc.position - (before.rfind("\n") + 1)
        return _fatal(file, line, col, f"not YAML text: {exc.reason} (character {exc.character!r})")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line, mark.column) if mark else (0, 0)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    lines = text.splitlines()
    hint = None
    if line < len(lines) and "\t" in lines[line][: col + 1]:
        hint = "indent with spaces: YAML does not allow tabs"
    return _fatal(file, line, col, message, hint)


def _events(text: str) -> Iterator[Any]:
    return yaml.parse(text, Loader=_PARSER)


def parse(file: Path, text: str, problems: Problems | None = None) -> Node | None:
    """The document's root node (None for an empty document). Raises ProblemError."""
    composer = _Composer(file, problems)
    try:
        for event in _events(text):
            composer.feed(event)
    except yaml.YAMLError as exc:
        raise _syntax_error(file, text, exc) from None
    except RecursionError:  # not expected from the iterative composer; never a traceback
        raise _fatal(file, 0, 0, "the file is nested too deeply") from None
    _refuse_nul(file, composer.root)
    return composer.root


def _refuse_nul(file: Path, root: Node | None) -> None:
    """A NUL byte (YAML's "\\0") cannot be in a command, argument, path or environment value:
    the OS refuses it at exec time, after the run exists. Refuse it here, naming where."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, Scalar):
            if isinstance(node.value, str) and "\0" in node.value:
                raise _fatal(
                    file,
                    node.line,
                    node.col,
                    "the value holds a NUL byte (\\0), which no command, path or "
                    "environment variable can contain",
                    "remove the \\0 escape",
                )
        elif isinstance(node, Seq):
            stack.extend(node.items)
        elif isinstance(node, Map):
            for key, value in node.pairs:
                stack.extend((key, value))


def load(file: Path, problems: Problems | None = None) -> Node | None:
    return parse(file, read_text(file), problems)
