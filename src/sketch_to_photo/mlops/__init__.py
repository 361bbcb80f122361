"""MLflow: run tracking, the model registry, the registered generator and the served model."""
