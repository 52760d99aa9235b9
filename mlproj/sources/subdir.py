"""The `#subdirectory` part of a project URI, checked so that it cannot leave its base."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from mlproj.errors import SourceError


def clean_subdirectory(sub: str | None) -> str | None:
    """`./a//b/` -> `a/b`; refuse absolute paths, `..` and `.git`. Dots inside names are fine."""
    if sub is None:
        return None
    if sub.startswith("/"):
        raise SourceError(
            f"subdirectory '{sub}' is an absolute path",
            hint="give it relative to the project root, after '#'",
        )
    parts = [p for p in PurePosixPath(sub).parts if p not in ("", ".")]
    if ".." in parts:
        raise SourceError(
            f"subdirectory '{sub}' leaves the project ('..' is not allowed)",
            hint="give a directory inside the project, after '#'",
        )
    if ".git" in parts:
        raise SourceError(f"subdirectory '{sub}' points into .git")
    return "/".join(parts) or None


def resolve_subdirectory(base: Path, sub: str | None, source: str) -> Path:
    """`base/sub`, resolved; it must exist, be a directory and (after symlinks) stay in base."""
    root = base.resolve()
    cleaned = clean_subdirectory(sub)
    if cleaned is None:
        return root
    target = (root / cleaned).resolve()
    if target != root and root not in target.parents:
        raise SourceError(
            f"subdirectory '{sub}' of {source} resolves outside the project (a symlink to {target})"
        )
    if not target.is_dir():
        what = "is not a directory" if target.exists() else "does not exist"
        raise SourceError(
            f"subdirectory '{sub}' {what} in {source}", hint="check the part of the URI after '#'"
        )
    return target
