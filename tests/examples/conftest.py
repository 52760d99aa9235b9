"""Put the example's directory on sys.path so its package (digits_cnn) can be imported."""

from __future__ import annotations

import sys

from tests.examples.support import EXAMPLE_DIR

if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))
