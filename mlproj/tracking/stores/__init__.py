"""Store implementations: MLflow's file store, its REST API, and its database stores."""
