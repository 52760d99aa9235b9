"""What an environment saves with each run, among the run's artifacts: the managers write these
files, `mlproj reproduce` rebuilds the environment from them and `mlproj runs diff` reads their
pins."""

from __future__ import annotations

ENV_ARTIFACT_DIR = "environment"
VENV_FROZEN = "requirements.frozen.txt"  # `uv pip freeze` of a virtualenv
VENV_HASHED = (
    "requirements.lock.txt"  # the same pins with sha256 hashes, where the index gives them
)
CONDA_EXPLICIT = "conda-explicit.txt"  # every conda package installed, by URL
CONDA_LOCK = "conda-lock.yml"  # the lock a conda env was installed from, when it had one
CONDA_PIP_FREEZE = "pip-freeze.txt"  # what the pip: section installed into a conda env
CONDA_PIP_LOCK = "pip-requirements.lock.txt"  # the pip: section's packages, pinned with hashes


def env_artifact(name: str) -> str:
    """The artifact path of one recorded file, e.g. `environment/conda-lock.yml`."""
    return f"{ENV_ARTIFACT_DIR}/{name}"
