"""Command-line text that must be valid before anything is created.

Python hands undecodable argv bytes over as surrogate escapes (`-P $'s=\\xff'`); they cannot be
written to a YAML file, a JSON body or a database, so they are refused here with the option's
name, not deep inside the store after the run directory exists.
"""

from __future__ import annotations

from mlproj.errors import UsageError


def require_utf8(option: str, value: str | None) -> None:
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start : exc.end].encode("utf-8", "surrogateescape")
        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UsageError(
            f"{option} {shown!r} is not valid UTF-8 text (byte 0x{bad[0]:02x})",
            "pass text in UTF-8; check the shell's locale or the script that built the line",
        ) from None


def require_experiment_name(value: str | None) -> None:
    """An empty or blank name would create an experiment nobody can name again."""
    if value is not None and not value.strip():
        raise UsageError(
            f"the experiment name {value!r} is blank",
            "give a name with visible characters, or leave the option out for the default",
        )
