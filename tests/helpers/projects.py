"""Write small projects for the tests."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path


def write_project(
    root: Path,
    mlproject: str | None = None,
    files: Mapping[str, str | bytes] | None = None,
    *,
    dedent: bool = True,
) -> Path:
    """Write ROOT/MLproject (when given) and FILES (relative name -> text or bytes); return ROOT.

    Texts are dedented, so they can be written as indented triple-quoted strings; pass
    `dedent=False` where the exact bytes matter (positions reported by `validate`). Bytes are
    written as they are.
    """
    root.mkdir(parents=True, exist_ok=True)
    everything: dict[str, str | bytes] = {} if mlproject is None else {"MLproject": mlproject}
    everything.update(files or {})
    for name, content in everything.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content) if dedent else content)
    return root
