"""Logs metrics with the real MLflow client from inside the container, into the run that
mlproj created (MLFLOW_RUN_ID / MLFLOW_TRACKING_URI are passed to the container)."""

import argparse
import os

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=3)
args = parser.parse_args()

with open("/data/input.txt") as handle:
    print("data:", handle.read().strip())
for step in range(args.steps):
    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
mlflow.set_tag("logged_from", "container")
print("cwd:", os.getcwd(), "run:", mlflow.active_run().info.run_id)
