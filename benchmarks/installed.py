"""A start-up benchmark's mlproj, installed the way a user has it: a venv, and a `mlproj` script.

A development checkout is usually an editable install, whose `.pth` finder (setuptools) imports
pathlib, urllib.parse, fnmatch and re into every interpreter at start, the floor included: then
mlproj looks cheaper than it is. So is coverage's `.pth` under CI. Here a fresh venv (no pip)
finds this checkout, click and PyYAML through a plain path `.pth`, which site reads without
importing anything, and `mlproj` is the console script pip writes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import yaml

CHECKOUT = Path(__file__).resolve().parents[1]

# What pip writes for the `mlproj = mlproj.script:entry` console script.
_SCRIPT = """import re
import sys
from mlproj.script import entry
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(entry())
"""


def install(root: Path) -> tuple[str, str]:
    """(python, mlproj script) of a venv under `root` that runs this checkout."""
    # An installed package has its bytecode compiled; a checkout under PYTHONDONTWRITEBYTECODE=1
    # would otherwise recompile every module at every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(CHECKOUT / "mlproj")], check=True)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    libraries = {Path(click.__file__).parents[1], Path(yaml.__file__).parents[1]}
    lines = [str(CHECKOUT), *sorted(str(p) for p in libraries)]
    (Path(site) / "mlproj-benchmark.pth").write_text("\n".join(lines) + "\n")
    script = venv / "bin" / "mlproj"
    script.write_text(f"#!{python}\n{_SCRIPT}")
    script.chmod(0o755)
    return str(python), str(script)
