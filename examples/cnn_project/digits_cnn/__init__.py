"""A small convolutional network for scikit-learn's 8x8 digits, tracked with MLflow."""
