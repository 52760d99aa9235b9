"""Where the `mlproj` script and `python -m mlproj` start: the collector is paused for the
imports (mlproj._util.collector), then the command line runs."""

from mlproj._util import collector

collector.pause()

from mlproj.cli import entry  # noqa: E402  (imported with the collector paused)

__all__ = ["entry"]
