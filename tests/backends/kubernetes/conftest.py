"""The docker engine fixture of tests/docker, for the image push test."""

from tests.docker.conftest import engine  # noqa: F401  (a fixture, found by pytest here)
