"""One error hierarchy. The CLI prints any MlprojError as one line and exits 1."""

from __future__ import annotations

from mlproj._util.redact import redact


class MlprojError(Exception):
    """A user-facing error: `message` says what is wrong, `hint` how to fix it."""

    exit_code = 1
    # True: the CLI prints the hint as a line of its own (`  fix: ...`), for errors whose
    # cause alone is a long line (an unreachable conda channel)
    hint_line = False

    def __init__(self, message: str, hint: str | None = None) -> None:
        message = redact(message)  # a tracking URI's password never reaches a terminal or log
        hint = redact(hint) if hint else hint
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.replace("\n", " ")
        return f"{text} ({self.hint})" if self.hint else text


class SpecError(MlprojError):
    """MLproject / python_env.yaml / conda.yml is missing or malformed."""


class ParamError(MlprojError):
    """A parameter value is missing, of the wrong type, or unsafe."""


class SourceError(MlprojError):
    """The project could not be fetched (path, git URL, version, subdirectory)."""


class EnvError(MlprojError):
    """An environment could not be built, found or activated."""


class TrackingError(MlprojError):
    """The tracking store could not be reached or refused a request."""


class RunError(MlprojError):
    """The run itself could not be started or supervised."""


class UsageError(MlprojError):
    """A command-line usage error that click did not catch (exit 2)."""

    exit_code = 2
