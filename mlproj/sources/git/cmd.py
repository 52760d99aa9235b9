"""The one place that starts `git`: a clean environment, no prompts, no hooks, errors as values.

GitPython is not used on this path on purpose: importing it takes ~0.12 s, more than the whole
budget of a cached fetch (< 0.1 s), and every call here is a plain git command anyway.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlproj.errors import SourceError
from mlproj.sources.uri import scrub

# Variables that would point git at another repository than the one we name.
_REPO_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)
# Never run hooks (a user's global core.hooksPath) or ask about a detached HEAD in our checkouts.
SAFE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false")


class GitFailed(SourceError):
    """A git command exited non-zero; `detail` is its last meaningful stderr line.

    Callers catch it to say what they were doing; one that slips through is still a one-line
    SourceError for the user, never a traceback.
    """

    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr
        self.detail = last_meaningful_line(stderr) or f"git exited with status {code}"
        command = next((a for a in argv[1:] if not a.startswith("-") and "=" not in a), "git")
        super().__init__(f"git {command} failed: {self.detail}")


def last_meaningful_line(stderr: str) -> str:
    """The line that says what went wrong: the last `fatal:`/`error:` line, else the last one
    that is not a hint or progress."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    lines = [
        ln
        for ln in lines
        if not ln.startswith(
            (
                "hint:",
                "remote: Enumerating",
                "remote: Counting",
                "remote: Compressing",
                "remote: Total",
                "Cloning into",
            )
        )
    ]
    # "Could not read from remote repository." and git's advice after it ("Please make sure you
    # have the correct access rights / and the repository exists.") follow the line that says
    # why (ssh's "Permission denied (publickey).", "Connection refused", ...).
    cut = next(
        (i for i, ln in enumerate(lines) if "Could not read from remote repository" in ln), 0
    )
    lines = lines[:cut] or lines
    for prefix in ("fatal:", "error:"):
        hits = [i for i, ln in enumerate(lines) if ln.startswith(prefix)]
        if hits:
            line = lines[hits[-1]][len(prefix) :].strip()
            if line.endswith(":") and hits[-1] + 1 < len(lines):  # "unable to connect to X:"
                line = f"{line} {lines[hits[-1] + 1]}"  # + "X[0: X]: errno=Connection refused"
            return scrub(line)
    return scrub(lines[-1]) if lines else ""


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_LOCATION_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"  # a missing credential fails instead of hanging
    env["LC_ALL"] = "C"  # messages we parse stay in English
    env["LANGUAGE"] = "C"
    env.update(extra or {})
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> str:
    """Run `git ARGS`; return stdout (undecodable bytes replaced). Raises GitFailed."""
    argv = ["git", *SAFE_CONFIG, *args]
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=git_env(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError(
            "git is not installed (needed for git projects and --version)",
            hint="install git and make sure it is on PATH",
        ) from exc
    out = proc.stdout.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise GitFailed(argv, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return out


def git_ok(
    args: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> bool:
    """Does `git ARGS` succeed? (for questions such as "is this object here?")."""
    try:
        run_git(args, cwd=cwd, env=env)
    except GitFailed:
        return False
    return True
