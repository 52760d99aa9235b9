import mlflow

mlflow.log_metric("m", 1)
mlflow.end_run(status="KILLED")
