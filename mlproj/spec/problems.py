"""Problems found in a project's files, with the place they were found."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal, Protocol

from mlproj._util.record import Record, replace
from mlproj.errors import SpecError

Severity = Literal["error", "warning"]


class Problem(Record):
    file: Path
    line: int  # 1-based
    column: int  # 1-based
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"


class Marked(Protocol):
    """Anything with a 0-based YAML position (a yamltree node)."""

    @property
    def line(self) -> int: ...

    @property
    def col(self) -> int: ...


class ProblemError(SpecError):
    """A SpecError that knows where in which file it was found."""

    def __init__(self, problem: Problem, hint: str | None = None) -> None:
        super().__init__(f"{problem.file}:{problem.line}:{problem.column}: {problem.message}", hint)
        # what `validate` prints: the fix goes into the message
        self.problem = replace(problem, message=f"{problem.message} ({hint})") if hint else problem


class Problems:
    """Collects problems for one file; positions are 0-based as YAML marks them."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.items: list[Problem] = []
        self._deferred: set[int] = set()  # ids of errors that only matter when one EP runs

    def add(self, severity: Severity, line: int, col: int, message: str) -> None:
        self.items.append(Problem(self.file, line + 1, col + 1, severity, message))

    def error(self, line: int, col: int, message: str) -> None:
        self.add("error", line, col, message)

    def warn(self, line: int, col: int, message: str) -> None:
        self.add("warning", line, col, message)

    def error_at(self, node: Marked, message: str) -> None:
        self.add("error", node.line, node.col, message)

    def warn_at(self, node: Marked, message: str) -> None:
        self.add("warning", node.line, node.col, message)

    def defer_at(self, node: Marked, message: str) -> None:
        """An error that stops one entry point, not the project (MLflow fails it at run)."""
        self.error_at(node, message)
        self._deferred.add(id(self.items[-1]))

    def fatal(self) -> list[Problem]:
        """The problems that stop the project from loading at all."""
        return [p for p in self.items if id(p) not in self._deferred]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    import difflib  # only when there is something to suggest: keeps start-up light

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def raise_first_error(problems: list[Problem]) -> None:
    """Raise the first error as a SpecError; the hint says how many more there are."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    more = len(errors) - 1
    hint = f"{more} more error{'s' if more > 1 else ''}; run `mlproj validate`" if more else None
    raise ProblemError(errors[0], hint)
