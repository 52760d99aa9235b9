"""The scheme of a URI, one rule for every package that reads URIs."""

from __future__ import annotations

import re

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def scheme_of(uri: str) -> str | None:
    """The scheme in lower case (`https://h/x` -> "https", `sqlite:///x.db` -> "sqlite",
    `file:x` -> "file"); None for a plain path. A one-letter "scheme" is a Windows drive
    letter (`C:\\x`), so a path too.

    git's scp-like `host:path` also reads as a scheme here: code that accepts it checks for
    it first (see sources.uri.url_scheme).
    """
    match = _SCHEME.match(uri)
    return match.group(1).lower() if match and len(match.group(1)) > 1 else None
