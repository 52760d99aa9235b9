"""SHA-256 without loading OpenSSL.

`import hashlib` loads OpenSSL's libcrypto to hash anything: 10 M instructions (about 3 ms), a
tenth of a warm run's own start-up, spent by every run of a directory without git (its content
is hashed). CPython's own SHA-256, the module hashlib itself falls back to when OpenSSL is
missing (`_sha2` since 3.12, `_sha256` before), computes the same digest and loads in
microseconds. hashlib stays the fallback for an interpreter built without it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Protocol


class Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


_BUILTIN = "_sha2" if sys.version_info >= (3, 12) else "_sha256"


def sha256() -> Hash:
    """A new SHA-256 hash object (hashlib.sha256's interface: update, hexdigest)."""
    try:
        builtin = importlib.import_module(_BUILTIN)  # sys.modules answers after the first call
    except ImportError:
        import hashlib

        return hashlib.sha256()
    return builtin.sha256()  # type: ignore[no-any-return]


def sha256_hex(data: bytes) -> str:
    digest = sha256()
    digest.update(data)
    return digest.hexdigest()
