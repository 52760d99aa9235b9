"""The pipeline of one run: supervise, log, tag, download remote params, runner."""
