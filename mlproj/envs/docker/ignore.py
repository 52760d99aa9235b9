""".dockerignore patterns, matched the way the docker CLI matches them.

Rules (moby's patternmatcher): one pattern a line, `#` starts a comment line, `!` re-includes,
the last matching pattern wins, a pattern that matches a directory matches everything under it,
`*` and `?` stay inside one path segment, `**` spans any number of segments.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

# Never sent to the engine, whatever .dockerignore says: run stores, VCS data and byte code
# (they change on every local run and would defeat image reuse).
ALWAYS_EXCLUDED = ("**/mlruns", "**/.git", "**/__pycache__")


@dataclass(frozen=True)
class Pattern:
    text: str
    regex: re.Pattern[str]
    reinclude: bool  # a `!pattern` line


@dataclass(frozen=True)
class IgnoreRules:
    patterns: tuple[Pattern, ...]

    @property
    def has_reincludes(self) -> bool:
        return any(p.reinclude for p in self.patterns)

    def excluded(self, relpath: str) -> bool:
        """Whether `relpath` (relative, `/`-separated) stays out of the build context."""
        parents = _parents(relpath)
        excluded = False
        for pattern in self.patterns:
            if any(pattern.regex.match(p) for p in parents):
                excluded = not pattern.reinclude
        return excluded


def _parents(relpath: str) -> list[str]:
    """`a/b/c` -> [`a/b/c`, `a`, `a/b`]: a pattern matching a parent directory matches too."""
    parts = relpath.split("/")
    return [relpath] + ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]


def parse(text: str, extra: tuple[str, ...] = ALWAYS_EXCLUDED) -> IgnoreRules:
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        patterns.append(_compile(line))
    # The fixed exclusions go last so that no `!` line can bring them back.
    fixed = [_compile(line) for line in extra]
    return IgnoreRules(tuple(patterns + fixed))


def load(project_dir: Path) -> IgnoreRules:
    path = project_dir / ".dockerignore"
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return parse(text)


def _compile(line: str) -> Pattern:
    reinclude = line.startswith("!")
    body = line[1:].strip() if reinclude else line
    body = posixpath.normpath(body) if body else body
    if len(body) > 1 and body.startswith("/"):
        body = body.lstrip("/")
    return Pattern(line, re.compile(_translate(body)), reinclude)


def _translate(pattern: str) -> str:
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                if body.startswith(("!", "^")):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)
