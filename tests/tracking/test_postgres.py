"""The REST store against an `mlflow server` whose backend store is a real PostgreSQL.

.ci/setup.d/40-postgres.sh starts the database and exports MLPROJ_TEST_POSTGRES_URI. In CI
the test fails without it; locally it is skipped.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mlproj.tracking.base import Metric
from mlproj.tracking.stores.rest import RestStore

from .conftest import mlflow_server


def postgres_uri() -> str:
    uri = os.environ.get("MLPROJ_TEST_POSTGRES_URI")
    if uri:
        return uri
    if os.environ.get("CI"):
        pytest.fail("MLPROJ_TEST_POSTGRES_URI is not set: .ci/setup.d/40-postgres.sh did not run")
    pytest.skip("no PostgreSQL: set MLPROJ_TEST_POSTGRES_URI (see .ci/setup.d/40-postgres.sh)")


@pytest.mark.postgres
def test_a_run_round_trips_through_a_postgres_backed_server(tmp_path: Path) -> None:
    uri = postgres_uri()
    with mlflow_server(uri, tmp_path / "server") as url:
        store = RestStore(url)
        exp = store.resolve_experiment("on postgres", None)
        assert store.resolve_experiment("on postgres", None) == exp
        start = int(time.time() * 1000)
        info = store.create_run(exp, user_id="ann", start_time=start, tags={"k": "v"},
                                run_name=None)  # fmt: skip
        params = {f"p{i}": str(i) for i in range(150)}  # two log-batch calls
        store.log_params(info.run_id, params)
        store.log_metrics(info.run_id, [Metric("acc", 0.5, start, 0), Metric("acc", 0.9, start, 1)])
        store.write_artifact(info.run_id, "logs/stdout.txt", b"from postgres\n")
        store.set_terminated(info.run_id, "FINISHED", start + 5)

        run = store.get_run(info.run_id)
        got = (run.info.status, run.info.user_id, run.info.start_time)
        assert got == ("FINISHED", "ann", start)
        assert dict(run.params) == params and run.tags["k"] == "v"
        assert run.metrics == {"acc": 0.9}
        assert store.read_artifact(info.run_id, "logs/stdout.txt") == b"from postgres\n"
        assert [r.info.run_id for r in store.search_runs([exp])] == [info.run_id]
