"""Plain-text tables and value formatting for `mlproj runs`."""

from __future__ import annotations

import datetime
import math
import os
import shutil
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass

_BOLD_YELLOW = "\033[1;33m"
_RESET = "\033[0m"


@dataclass(frozen=True)
class Style:
    """How to mark highlighted rows: ANSI colour on a terminal, a `*` column otherwise."""

    color: bool = False

    def mark(self, text: str) -> str:
        return f"{_BOLD_YELLOW}{text}{_RESET}" if self.color else text


def fmt_time(ms: int | None) -> str:
    if not ms:
        return "-"
    stamp = datetime.datetime.fromtimestamp(ms / 1000)
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(start_ms: int | None, end_ms: int | None) -> str:
    if not start_ms or not end_ms or end_ms < start_ms:
        return "-"
    seconds = (end_ms - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fmt_number(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.6g}"


def fmt_text(value: str | None, width: int = 40) -> str:
    if value is None:
        return "-"
    flat = value.replace("\n", "\\n")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    highlight: Collection[int] = (),
    style: Style = Style(),
    width: int | None = None,
    keep: int = 1,
) -> str:
    """Columns padded to their widest cell. Rows whose index is in `highlight` are coloured
    (terminal) or get a `*` in a leading marker column (pipes, files). With `width` (the
    terminal's), columns after the first `keep` are left out from the right until it fits,
    and the last line says how many."""
    marker = bool(highlight) and not style.color
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    shown = len(headers)
    if width:
        while shown > keep and sum(widths[:shown]) + 2 * (shown - 1) + 2 * marker > width:
            shown -= 1
    hidden = len(headers) - shown
    headers, widths = headers[:shown], widths[:shown]
    rows = [row[:shown] for row in rows]

    def line(cells: Sequence[str], lead: str) -> str:
        text = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        return f"{lead} {text}" if marker else text

    out = [line(headers, " ")]
    for index, row in enumerate(rows):
        hot = index in highlight
        text = line(row, "*" if hot else " ")
        out.append(style.mark(text) if hot and style.color else text)
    if hidden:
        out.append(
            f"({hidden} more column{'s' if hidden > 1 else ''}: widen the terminal or use --json)"
        )
    return "\n".join(out)


def terminal_width() -> int | None:
    """The width tables must fit: the terminal's, or $COLUMNS; None for a pipe without it."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None
