"""Where a project comes from: a local directory, a git URL fetched into the cache, or a zip
archive (local or http) unpacked into the cache.

`fetch_project(uri, version)` is the one entry point the runner needs. Nothing here imports
GitPython or starts git at import time (`mlproj --help` and `validate` stay fast).
"""

from __future__ import annotations

from mlproj.sources.base import FetchedProject, GitInfo
from mlproj.sources.fetch import fetch_project, release
from mlproj.sources.uri import is_git_uri, split_subdirectory

__all__ = [
    "FetchedProject",
    "GitInfo",
    "fetch_project",
    "is_git_uri",
    "release",
    "split_subdirectory",
]
