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
# On every call: never run hooks (ours or a repository's), an fsmonitor program or a pager;
# never ask about a detached HEAD in our checkouts.
SAFE_CONFIG = (
    "--no-pager",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.pager=cat",
    "-c",
    "advice.detachedHead=false",
)
# In a repository mlproj did not create, its own config must not run programs either (git's
# safe.directory thinking): no credential helper, askpass or ssh command from it. Our calls
# there never touch the network, so nothing is lost. Filter and diff drivers are per name:
# see _driver_overrides.
_UNTRUSTED_CONFIG = (
    "-c",
    "credential.helper=",
    "-c",
    "core.askPass=",
    "-c",
    "core.sshCommand=ssh",
    "-c",
    "core.editor=false",
    "-c",
    "sequence.editor=false",
)
# Driver keys whose values are programs; an empty value turns each off (tested in
# tests/hardening/test_git_config.py). diff.external is not here: git runs an empty one and
# fails, so `git diff` calls pass --no-ext-diff --no-textconv instead.
_DRIVER_PROGRAM_KEYS = {
    "filter": ("clean", "smudge", "process"),
    "diff": ("textconv", "command"),
    "merge": ("driver",),
}


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


def _driver_overrides(cwd: Path) -> list[str]:
    """`-c` pairs that empty every filter/diff/merge driver program the repo's config defines.

    Reading config runs nothing; the names cannot be wildcarded, so they are listed first."""
    proc = subprocess.run(
        [
            "git",
            *SAFE_CONFIG,
            "config",
            "-z",
            "--name-only",
            "--get-regexp",
            r"^(filter|diff|merge)\.",
        ],
        cwd=cwd,
        env=git_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    drivers: dict[tuple[str, str], None] = {}
    for key in proc.stdout.decode("utf-8", "replace").split("\0"):
        section, _, rest = key.partition(".")
        driver = rest.rpartition(".")[0]
        if driver and section.lower() in _DRIVER_PROGRAM_KEYS:
            drivers[(section.lower(), driver)] = None
    pairs: list[str] = []
    for section, driver in drivers:
        for name in _DRIVER_PROGRAM_KEYS[section]:
            pairs += ["-c", f"{section}.{driver}.{name}="]
        if section == "filter":
            pairs += ["-c", f"filter.{driver}.required=false"]
    return pairs


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    trusted: bool = False,
) -> str:
    """Run `git ARGS`; return stdout (undecodable bytes replaced). Raises GitFailed.

    `trusted`: the repository is one mlproj made (its config is ours), so the user's credential
    helpers and ssh command apply. Without `cwd`, git runs from `/`: the process's own working
    directory may be inside a repository whose config would otherwise be read."""
    argv = ["git", *SAFE_CONFIG]
    if not trusted:
        argv += _UNTRUSTED_CONFIG
        if cwd is not None:
            argv += _driver_overrides(cwd)
    argv += args
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd if cwd is not None else "/",
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
