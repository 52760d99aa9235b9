from tests.run.conftest import store

__all__ = ["store"]
