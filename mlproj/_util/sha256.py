"""SHA-256 without loading OpenSSL.

`import hashlib` loads OpenSSL's libcrypto to hash anything: 10 M instructions (about 3 ms), a
tenth of a warm run's own start-up, spent by every run of a directory without git (its content
is hashed). CPython's own SHA-256, the module hashlib itself falls back to when OpenSSL is
missing (`_sha2` since 3.12, `_sha256` before), computes the same digest and loads in
microseconds. hashlib stays the fallback for an interpreter built without it.
"""

from __future__ import annotations

import importlib
from typing import Protocol


class Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


def sha256() -> Hash:
    """A new SHA-256 hash object (hashlib.sha256's interface: update, hexdigest)."""
    for builtin in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(builtin).sha256()  # type: ignore[no-any-return]
        except ImportError:
            continue
    import hashlib

    return hashlib.sha256()


def sha256_hex(data: bytes) -> str:
    digest = sha256()
    digest.update(data)
    return digest.hexdigest()
