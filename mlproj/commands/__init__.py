"""Click commands, one module per verb (loaded lazily by mlproj.cli)."""
