"""The manifest of a bundle written by `mlproj pack`: what it holds and where it came from.

`mlproj-bundle.json` at the root of the zip lists every other file with its sha256, the source
(URI, commit, subdir) and the environment locks, so `mlproj validate bundle.zip` can tell a
bundle that was changed or cut short from the one that was packed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

MANIFEST_NAME = "mlproj-bundle.json"
FORMAT = "mlproj-bundle/1"


def manifest_bytes(data: dict[str, Any]) -> bytes:
    """Sorted keys, fixed layout: the same manifest is always the same bytes."""
    return (json.dumps({"format": FORMAT, **data}, indent=2, sort_keys=True) + "\n").encode()


def check_bundle(path: Path) -> list[str]:
    """Every way the zip at `path` disagrees with its manifest ([] when it matches)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            if MANIFEST_NAME not in names:
                return [f"no {MANIFEST_NAME}: not a bundle made by `mlproj pack`"]
            manifest = json.loads(archive.read(MANIFEST_NAME))
            contents = {name: archive.read(name) for name in names if name != MANIFEST_NAME}
    except (OSError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [f"cannot read the bundle: {exc}"]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return [f"{MANIFEST_NAME} is not in the {FORMAT} format"]
    listed: dict[str, str] = manifest.get("files") or {}
    problems = []
    for name in sorted(set(listed) | set(contents)):
        if name not in contents:
            problems.append(f"{name} is in the manifest but missing from the bundle")
        elif name not in listed:
            problems.append(f"{name} is in the bundle but not in the manifest")
        elif hashlib.sha256(contents[name]).hexdigest() != listed[name]:
            problems.append(f"{name} does not match its sha256 in the manifest")
    for lock in (manifest.get("env") or {}).get("locks") or []:
        if lock not in listed:
            problems.append(f"the manifest names lock {lock}, which it does not list")
    return problems
