"""prctl without the ctypes package: the call really takes effect, through CPython's `_ctypes`
core and through the ctypes fallback alike, and the fast way loads no ctypes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import unmeasured_env

# Becomes a subreaper through the named resolver, then orphans a `sleep`: the kernel gives it
# to us rather than to init only if the setting took effect.
ADOPTION = """
import json, os, signal, subprocess, sys
from mlproj._util import prctl
call = getattr(prctl, sys.argv[1])()
status = call(prctl.PR_SET_CHILD_SUBREAPER, 1)
orphan = int(subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"],
                            capture_output=True, text=True, check=True).stdout)
# run() returned after the shell exited: the sleep was orphaned then, and re-parented
with open(f"/proc/{orphan}/stat") as stat:
    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
os.kill(orphan, signal.SIGKILL)
print(json.dumps({"status": status, "parent": parent, "me": os.getpid(),
                  "ctypes": "ctypes" in sys.modules}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
@pytest.mark.parametrize("resolver", ["resolve", "_with_ctypes"])
def test_the_subreaper_setting_takes_effect(resolver: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", ADOPTION, resolver],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=unmeasured_env(),  # coverage, measuring subprocesses in CI, may load ctypes
    )
    result = json.loads(out.stdout)
    assert result["status"] == 0
    assert result["parent"] == result["me"]
    assert result["ctypes"] == (resolver == "_with_ctypes")
