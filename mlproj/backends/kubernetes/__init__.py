"""`-b kubernetes`: MLflow's Kubernetes backend (a Job from the user's template)."""
