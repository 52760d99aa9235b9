"""mlproj: package and run machine-learning projects (MLflow Projects compatible)."""

__version__ = "0.1.0"
