"""The order every store lists experiments in, so `mlproj runs` reads the same on any store."""

from __future__ import annotations

from collections.abc import Iterable

from mlproj.tracking.base import Experiment


def in_id_order(experiments: Iterable[Experiment]) -> list[Experiment]:
    """By id as a number: MLflow's ids are decimal text, so shorter first ("9" before "10")."""
    return sorted(experiments, key=lambda e: (len(e.experiment_id), e.experiment_id))
