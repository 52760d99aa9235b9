"""pip requirement lines of a python_env: the files they pull in (-r / -c) and their rewriting.

A python_env's `dependencies` are written into a requirements file inside the env; the `-r` and
`-c` files they name are relative to the project directory, so they are made absolute there.
Nested `-r` lines inside those files are relative to the file that holds them (pip's rule), which
uv follows by itself; they are only read here to hash their bytes into the env key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlproj._util.regular_file import read_regular
from mlproj.errors import EnvError

_FILE_OPTIONS = {"-r": "-r", "--requirement": "-r", "-c": "-c", "--constraint": "-c"}
_INDEX_OPTIONS = ("-i", "--index-url")
# where packages come from: a lock's pins are installed from the same places they were found
_SOURCE_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index")


@dataclass(frozen=True)
class ReferencedFile:
    option: str  # "-r" or "-c"
    path: Path  # absolute
    sha256: str


def file_option(line: str) -> tuple[str, str] | None:
    """("-r" | "-c", path as written) for a requirement/constraint file line, else None."""
    text = _strip_comment(line)
    for option, canonical in _FILE_OPTIONS.items():
        if not text.startswith(option):
            continue
        rest = text[len(option) :]
        if option.startswith("--") and rest[:1] not in ("=", " ", "\t"):
            continue  # another long option that merely starts the same way
        target = rest.lstrip("= \t").strip()
        return (canonical, target) if target else None
    return None


def sets_index(lines: Iterable[str]) -> bool:
    """Whether requirement lines choose their own index (`--index-url` / `-i`)."""
    for line in lines:
        text = _strip_comment(line)
        if text.startswith(_INDEX_OPTIONS) and not text.startswith("--index-url-"):
            return True
    return False


def source_options(lines: Iterable[str]) -> list[str]:
    """The lines that choose where packages come from (`--extra-index-url URL`, `-f DIR`, ...)."""
    found = []
    for line in lines:
        text = _strip_comment(line)
        option = text.split("=", 1)[0].split(None, 1)[0] if text else ""
        if option in _SOURCE_OPTIONS or (option[:2] in ("-i", "-f") and len(option) > 2):
            found.append(text)
    return found


def rewrite(lines: Sequence[str], base: Path) -> list[str]:
    """The lines with -r/-c targets made absolute against `base` (the project directory)."""
    out = []
    for line in lines:
        found = file_option(line)
        if found is None:
            out.append(line)
        else:
            option, target = found
            out.append(f"{option} {(base / target).resolve()}")
    return out


def referenced_files(lines: Sequence[str], base: Path, origin: str) -> list[ReferencedFile]:
    """Every -r/-c file the lines pull in, nested ones included, with its content hash."""
    seen: dict[Path, ReferencedFile] = {}
    _walk(lines, base, origin, seen)
    return list(seen.values())


def all_lines(lines: Sequence[str], files: Sequence[ReferencedFile]) -> list[str]:
    """The lines and the lines of every referenced file (to look for options)."""
    out = list(lines)
    for ref in files:
        out += read_regular(ref.path).decode("utf-8", "replace").splitlines()
    return out


def count_requirements(lines: Sequence[str]) -> int:
    """How many of the lines name a package (not options, not comments)."""
    count = 0
    for line in lines:
        text = _strip_comment(line)
        if text and (not text.startswith("-") or text.startswith(("-e ", "--editable"))):
            count += 1
    return count


def _walk(lines: Sequence[str], base: Path, origin: str, seen: dict[Path, ReferencedFile]) -> None:
    for line in lines:
        found = file_option(line)
        if found is None:
            continue
        option, target = found
        path = (base / target).resolve()
        if path in seen:
            continue
        try:
            data = read_regular(path)  # a FIFO must not hang the run
        except OSError as exc:
            raise EnvError(
                f"{origin}: `{line.strip()}` names {path}, which cannot be read "
                f"({exc.strerror or exc})",
                "paths in python_env dependencies are relative to the project directory",
            ) from None
        seen[path] = ReferencedFile(option, path, hashlib.sha256(data).hexdigest())
        nested = data.decode("utf-8", errors="replace").splitlines()
        _walk(nested, path.parent, str(path), seen)


def _strip_comment(line: str) -> str:
    text = line.strip()
    if text.startswith("#"):
        return ""
    cut = text.find(" #")
    return text[:cut].rstrip() if cut >= 0 else text
