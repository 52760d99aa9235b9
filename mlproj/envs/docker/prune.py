"""`mlproj-*` images mlproj built (they carry its digest label), for `mlproj cache prune`: an
image any container uses (running, or kept with --keep-container) is never removed."""

from __future__ import annotations

import datetime
import fnmatch
import functools
from typing import Any

from mlproj._util.prunable import Prunable


def mlproj_images(pattern: str = "mlproj-*") -> list[Prunable]:
    """The engine's mlproj images; [] when no engine answers (nothing to prune there)."""
    from mlproj.envs.docker.engine import connect
    from mlproj.envs.docker.image import LABEL_DIGEST
    from mlproj.errors import EnvError

    try:
        client = connect()
    except EnvError:
        return []
    try:
        used = {c.image.id for c in client.containers.list(all=True) if c.image is not None}
        images = client.images.list(filters={"label": LABEL_DIGEST})  # built by mlproj only
    finally:
        client.close()
    found = []
    for image in images:
        tags = [t for t in image.tags if t.startswith("mlproj-") and fnmatch.fnmatch(t, pattern)]
        if not tags or image.id in used:
            continue
        found.append(
            Prunable(
                "docker image",
                ", ".join(tags),
                int(image.attrs.get("Size") or 0),
                _created(image.attrs.get("Created")),
                functools.partial(_remove, str(image.id)),
            )
        )
    return found


def _created(text: Any) -> float:
    try:
        return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00")[:26]).timestamp()
    except ValueError:
        return 0.0


def _remove(image_id: str) -> bool:
    """On a client of its own, closed when done (the listing's was closed before any removal)."""
    from docker.errors import APIError

    from mlproj.envs.docker.engine import connect
    from mlproj.errors import EnvError

    try:
        client = connect()
    except EnvError:  # the engine went away since the listing: nothing removed
        return False
    try:
        client.images.remove(image_id)  # no force: an image a container started since is kept
    except APIError:
        return False
    finally:
        client.close()
    return True
