"""What the recorded command line keeps and what it hides."""

from __future__ import annotations

import pytest

from mlproj.run.tags import redact_docker_env


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-A", "env=TOKEN=abc"], ["-A", "env=TOKEN=***"]),
        (["--docker-args", "e=PASS=x=y"], ["--docker-args", "e=PASS=***"]),
        (["-A", "e=COPY_FROM_HOST"], ["-A", "e=COPY_FROM_HOST"]),
        (["-A", "memory=1g"], ["-A", "memory=1g"]),
        (["-P", "env=a=b"], ["-P", "env=a=b"]),
    ],
)
def test_docker_env_values_are_redacted(argv: list[str], expected: list[str]) -> None:
    assert redact_docker_env(["mlproj", "run", ".", *argv])[3:] == expected
