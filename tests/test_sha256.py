"""mlproj._util.sha256: the digest hashlib gives, without loading OpenSSL."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from mlproj._util.sha256 import sha256, sha256_hex
from tests.helpers import unmeasured_env


@pytest.mark.parametrize("data", [b"", b"a", bytes(range(256)) * 4099])
def test_same_digest_as_hashlib(data: bytes) -> None:
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_updates_in_pieces_give_the_digest_of_the_whole() -> None:
    digest = sha256()
    for piece in (b"ab", b"", b"c" * 100_000):
        digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(b"ab" + b"c" * 100_000).hexdigest()


def test_openssl_is_not_loaded() -> None:
    probe = "import sys; from mlproj._util.sha256 import sha256_hex; sha256_hex(b'x'); " + (
        "print('_hashlib' in sys.modules, 'hashlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env=unmeasured_env(),  # coverage itself would load hashlib
    )
    assert out.stdout.split() == ["False", "False"]
