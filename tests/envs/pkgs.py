"""Tiny pure-Python packages for the env tests, built into a local wheel directory.

Each package is a real source tree (pyproject.toml) whose PEP 517 build backend lives in the tree
itself and has no build requirements, so `uv build --wheel` and `uv pip install ./pkg` work with
no package index at all. A package made with `sleep=S` sleeps S seconds in its build hook (and
writes a "building" file first), so that a test can kill an install halfway.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.helpers import uv_bin

BACKEND = '''
"""A minimal in-tree PEP 517 backend: writes a wheel with zipfile, no build requirements."""
import base64, hashlib, json, os, time, zipfile

def _config():
    with open("pkg.json") as fh:
        return json.load(fh)

def get_requires_for_build_wheel(config_settings=None):
    return []

def _dist(cfg):
    return cfg["name"].replace("-", "_") + "-" + cfg["version"]

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    cfg = _config()
    if cfg.get("sleep"):
        with open(cfg["signal"], "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(cfg["sleep"])
    dist = _dist(cfg)
    mod = cfg["name"].replace("-", "_")
    meta = ["Metadata-Version: 2.1", "Name: " + cfg["name"], "Version: " + cfg["version"]]
    meta += ["Requires-Dist: " + dep for dep in cfg.get("deps", [])]
    files = {
        mod + "/__init__.py": "VERSION = %r\\n" % cfg["version"],
        dist + ".dist-info/METADATA": "\\n".join(meta) + "\\n",
        dist + ".dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\n"
                                   "Tag: py3-none-any\\n",
    }
    if cfg.get("script"):
        files[dist + ".dist-info/entry_points.txt"] = (
            "[console_scripts]\\n%s = %s:main\\n" % (cfg["script"], mod))
        files[mod + "/__init__.py"] += "def main():\\n    print(VERSION)\\n"
    record = []
    name = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
            zf.writestr(path, data)
        record.append(dist + ".dist-info/RECORD,,")
        zf.writestr(dist + ".dist-info/RECORD", "\\n".join(record) + "\\n")
    return name
'''

PYPROJECT = """[build-system]
requires = []
build-backend = "tiny_backend"
backend-path = ["."]

[project]
name = "{name}"
version = "{version}"
"""


def make_source(
    root: Path,
    name: str,
    version: str = "1.0",
    *,
    deps: Sequence[str] = (),
    script: str | None = None,
    sleep: float = 0.0,
    signal_file: Path | None = None,
) -> Path:
    """A package source tree at root/name-version."""
    src = root / f"{name}-{version}"
    src.mkdir(parents=True)
    (src / "tiny_backend.py").write_text(BACKEND)
    (src / "pyproject.toml").write_text(PYPROJECT.format(name=name, version=version))
    cfg = {
        "name": name,
        "version": version,
        "deps": list(deps),
        "script": script,
        "sleep": sleep,
        "signal": str(signal_file or src / "building"),
    }
    (src / "pkg.json").write_text(json.dumps(cfg))
    return src


def build_wheel(src: Path, dest: Path) -> None:
    """`uv build --wheel` of one source tree into `dest` (offline: the backend needs nothing)."""
    subprocess.run(
        [
            uv_bin(),  # skips the test (and the wheelhouse fixture) where uv is missing
            "build",
            "--wheel",
            "--offline",
            "--no-config",
            "-q",
            "-o",
            str(dest),
            str(src),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def build_wheelhouse(root: Path) -> Path:
    """The wheel directory the tests install from (names that no package index has):
    mlpt-alpha 1.0 and 2.0 (script `alpha-version`), mlpt-beta 1.0 (needs alpha), mlpt-gamma."""
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    sources = root / "src"
    specs: list[tuple[str, str, tuple[str, ...], str | None]] = [
        ("mlpt-alpha", "1.0", (), "alpha-version"),
        ("mlpt-alpha", "2.0", (), "alpha-version"),
        ("mlpt-beta", "1.0", ("mlpt-alpha>=1.0",), None),
        ("mlpt-gamma", "0.1", (), None),
    ]
    for name, version, deps, script in specs:
        build_wheel(make_source(sources, name, version, deps=deps, script=script), wheels)
    return wheels
