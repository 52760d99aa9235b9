"""The final status of a run, decided by how its command ended (as `mlflow run` decides it).

The child's own mlflow may have ended the run already: its atexit handler writes FINISHED even
after a crash, and a script may end its run KILLED and exit 0. The exit code is the truth, so
mlproj's status replaces whatever the child wrote.
"""

from __future__ import annotations

from mlproj.run.supervise import Outcome
from mlproj.tracking.base import RunStatus

EXIT_CODE_TAG = "mlproj.exit_code"


def final_status(outcome: Outcome | None, interrupted: bool) -> RunStatus:
    """0 -> FINISHED, non-zero -> FAILED, a signal (ours or the child's death) -> KILLED;
    no outcome at all (the env build or the start failed) -> FAILED."""
    if interrupted or (
        outcome is not None and (outcome.signal is not None or outcome.exit_code < 0)
    ):
        return "KILLED"
    if outcome is None or outcome.exit_code != 0:
        return "FAILED"
    return "FINISHED"


def exit_code_tags(outcome: Outcome | None) -> dict[str, str]:
    """The child's exit status as a tag: its code, or minus the signal that ended it."""
    return {} if outcome is None else {EXIT_CODE_TAG: str(outcome.exit_code)}
