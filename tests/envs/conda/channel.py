"""A local conda channel of tiny hand-made packages, indexed by rattler, and wheels for pip.

A conda package is a `.tar.bz2` holding the payload files plus `info/index.json` (name,
version, build, depends, subdir, noarch), `info/paths.json` (one entry per file with its sha256,
and the prefix placeholder of text files that embed the install prefix) and `info/files`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# conda-build's placeholder: the installer replaces it with the real prefix at link time
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


@dataclass(frozen=True)
class Pkg:
    name: str
    version: str
    depends: tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)  # path -> text
    executables: tuple[str, ...] = ()  # paths among `files` that get mode 0755
    symlinks: Mapping[str, str] = field(default_factory=dict)  # path -> target
    build: str = "0"
    noarch: str = "generic"  # "python": files under site-packages/ go to the env's python

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}-{self.build}.tar.bz2"


def _add(tar: tarfile.TarFile, path: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(path)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def write_package(subdir: Path, pkg: Pkg) -> Path:
    paths: list[dict[str, object]] = []
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for path, text in pkg.files.items():
            data = text.encode()
            entry: dict[str, object] = {
                "_path": path,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size_in_bytes": len(data),
            }
            if PLACEHOLDER in text:
                entry.update(prefix_placeholder=PLACEHOLDER, file_mode="text")
            paths.append(entry)
            _add(tar, path, data, 0o755 if path in pkg.executables else 0o644)
        for path, target in pkg.symlinks.items():
            info = tarfile.TarInfo(path)
            info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target, 0
            tar.addfile(info)
            paths.append({"_path": path, "path_type": "softlink"})
        index = {
            "name": pkg.name,
            "version": pkg.version,
            "build": pkg.build,
            "build_number": 0,
            "depends": list(pkg.depends),
            "subdir": "noarch",
            "noarch": pkg.noarch,
            "timestamp": 1700000000000,
            "license": "MIT",
        }
        _add(tar, "info/index.json", json.dumps(index).encode())
        if pkg.noarch == "python":
            link = {"noarch": {"type": "python"}, "package_metadata_version": 1}
            _add(tar, "info/link.json", json.dumps(link).encode())
        _add(tar, "info/paths.json", json.dumps({"paths": paths, "paths_version": 1}).encode())
        _add(tar, "info/files", "".join(f"{p['_path']}\n" for p in paths).encode())
    subdir.mkdir(parents=True, exist_ok=True)
    out = subdir / pkg.filename
    out.write_bytes(buf.getvalue())
    return out


def index(channel: Path) -> None:
    from rattler.index import index_fs

    (channel / "linux-64").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def python_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def python_package() -> Pkg:
    """`python` made from this machine's interpreter: a venv-style prefix (pyvenv.cfg + link),
    so the prefix's bin/python has the prefix as sys.prefix and uv installs into it."""
    real = os.path.realpath(sys.executable)
    cfg = (
        f"home = {os.path.dirname(real)}\ninclude-system-site-packages = false\n"
        f"version = {python_version()}\n"
    )
    return Pkg(
        "python",
        python_version(),
        files={"pyvenv.cfg": cfg},
        symlinks={"bin/python": real, "bin/python3": real},
    )


def lib(version: str) -> Pkg:
    return Pkg("mlp-lib", version, files={"share/mlp-lib/VERSION": f"{version}\n"})


APP_SCRIPT = f"""#!/bin/sh
echo "app prefix={PLACEHOLDER}"
echo "lib version=$(cat {PLACEHOLDER}/share/mlp-lib/VERSION)"
"""


def app() -> Pkg:
    """`mlp-app` needs mlp-lib; its bin/mlp-app embeds the install prefix (placeholder)."""
    return Pkg(
        "mlp-app",
        "1.0",
        depends=("mlp-lib >=1",),
        files={"bin/mlp-app": APP_SCRIPT},
        executables=("bin/mlp-app",),
    )


def data() -> Pkg:
    """`mlp-data` declares an activation variable as data (conda's env_vars.d)."""
    return Pkg(
        "mlp-data",
        "1.0",
        files={
            "share/mlp-data/table.txt": "42\n",
            "etc/conda/env_vars.d/mlp-data.json": f'{{"MLP_DATA": "{PLACEHOLDER}/share/mlp-data"}}',
        },
    )


def hook() -> Pkg:
    """`mlp-hook` only has an activation shell script (which mlproj does not run)."""
    return Pkg("mlp-hook", "1.0", files={"etc/conda/activate.d/mlp-hook.sh": "export HOOK=1\n"})


def pylib() -> Pkg:
    """`mlp-pylib`, a noarch: python package (most conda-forge Python libraries are)."""
    return Pkg(
        "mlp-pylib",
        "1.0",
        depends=("python",),
        build="py_0",
        noarch="python",
        files={"site-packages/mlp_pylib/__init__.py": "VALUE = 'from conda'\n"},
    )


def standard_packages() -> list[Pkg]:
    return [lib("1.0"), lib("2.0"), app(), data(), hook(), pylib(), python_package()]


def build_channel(root: Path, packages: Sequence[Pkg] | None = None) -> Path:
    for pkg in packages if packages is not None else standard_packages():
        write_package(root / "noarch", pkg)
    index(root)
    return root


def remove_repodata(channel: Path) -> None:
    """Leave only the package files: nothing can be solved from this channel any more."""
    for path in channel.rglob("repodata*"):
        path.unlink()


def write_wheel(directory: Path, name: str, version: str, body: str = "") -> Path:
    """A pure-Python wheel `name` with a console script `name` that prints its version."""
    mod = name.replace("-", "_")
    dist = f"{mod}-{version}"
    files = {
        f"{mod}/__init__.py": f"VERSION = {version!r}\n{body}"
        "def main():\n    print('pip-package', VERSION)\n",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: mlproj-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}.dist-info/entry_points.txt": f"[console_scripts]\n{name} = {mod}:main\n",
    }
    record = []
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as archive:
        for path, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}\n")
            archive.writestr(path, data)
        record.append(f"{dist}.dist-info/RECORD,,\n")
        archive.writestr(f"{dist}.dist-info/RECORD", "".join(record))
    return out
