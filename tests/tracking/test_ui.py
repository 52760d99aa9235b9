"""`mlproj ui`, `./mlflow.db` as the default store, and `mlproj runs migrate` (issue 11.7).

The UI is looked at as a person would: headless Chromium (Debian's `chromium` and
`chromium-driver`, .ci/setup.d/10-apt.sh) driven by Selenium opens it on 127.0.0.1, finds the
bundled example's runs in the runs table and a rendered metric chart. Screenshots are kept under
the test's tmp dir (the path is printed).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.examples.support import EXAMPLE_DIR, require_torch

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _no_mlflow(tmp_path: Path) -> dict[str, str]:
    """An environment in which `import mlflow` fails, as on a machine without the extra."""
    shadow = tmp_path / "no-mlflow"
    shadow.mkdir(exist_ok=True)
    (shadow / "sitecustomize.py").write_text("import sys\nsys.modules['mlflow'] = None\n")
    return {"PYTHONPATH": os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")])}


def _file_store_with_runs(root: Path, count: int) -> list[str]:
    """Runs written with mlproj's own file store (what `mlproj run` writes)."""
    from mlproj.tracking.base import Metric
    from mlproj.tracking.stores.file import FileStore

    store = FileStore(root.resolve().as_uri())
    ids = []
    for i in range(count):
        info = store.create_run(
            "0", user_id="u", start_time=1000 + i, tags={"t": str(i)}, run_name=f"r{i}"
        )
        store.log_params(info.run_id, {"lr": str(0.1 * (i + 1)), "name": "a b"})
        store.log_metrics(info.run_id, [Metric("acc", 0.5 + i / 10, 1000 + i, 0)])
        store.set_terminated(info.run_id, "FINISHED" if i else "FAILED", 2000 + i)
        ids.append(info.run_id)
    return ids


@pytest.mark.slow  # mlflow creates the sqlite schema (seconds), read back by mlflow
def test_migrate_moves_a_file_store_into_sqlite_and_reads_every_run_back(tmp_path: Path) -> None:
    ids = _file_store_with_runs(tmp_path / "mlruns", 3)
    result = run_cli(["runs", "migrate", "--to", "sqlite:///mlflow.db"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "migrated 3 runs in 1 experiments to sqlite:///mlflow.db" in result.stderr
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = {r.info.run_id: r for r in client.search_runs(["0"])}
    assert sorted(runs) == sorted(ids)
    assert runs[ids[0]].info.status == "FAILED" and runs[ids[0]].data.params["name"] == "a b"
    assert runs[ids[2]].data.metrics == {"acc": 0.7}
    # a second migration does not overwrite the database
    again = run_cli(["runs", "migrate", "--to", "sqlite:///mlflow.db"], cwd=tmp_path)
    assert again.returncode == 1 and "exists already" in again.stderr


@pytest.mark.slow  # mlflow creates the sqlite schema, then each command opens it (seconds)
def test_an_existing_mlflow_db_is_the_default_store(tmp_path: Path) -> None:
    _file_store_with_runs(tmp_path / "mlruns", 1)
    assert run_cli(["runs", "migrate", "--to", "sqlite:///mlflow.db"], cwd=tmp_path).returncode == 0
    shutil.rmtree(tmp_path / "mlruns")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "MLproject").write_text('entry_points:\n  main:\n    command: "true"\n')
    result = run_cli(["run", "proj"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # no second store beside MLflow's (./mlruns may hold artifacts: MLflow's own default)
    assert not (tmp_path / "mlruns" / "0" / "meta.yaml").exists()
    listed = run_cli(["runs", "list", "--quiet"], cwd=tmp_path)
    assert len(listed.stdout.split()) == 2, listed.stderr
    # without the mlflow extra it says so instead of writing ./mlruns
    missing = run_cli(["run", "proj"], cwd=tmp_path, env=_no_mlflow(tmp_path))
    assert missing.returncode == 1
    assert "./mlflow.db (MLflow's default store) is in this directory" in missing.stderr
    assert "pip install 'mlproj[mlflow]'" in missing.stderr


def test_ui_without_mlflow_says_how_to_get_it(tmp_path: Path) -> None:
    result = run_cli(["ui"], cwd=tmp_path, env=_no_mlflow(tmp_path))
    assert result.returncode == 1
    assert "pip install 'mlproj[mlflow]'" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def example_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs of the bundled example (2 epochs and 1), in a file store."""
    require_torch()
    store = tmp_path_factory.mktemp("ui") / "mlruns"
    for lr, epochs in (("0.01", "2"), ("0.001", "1")):
        result = run_cli(
            [
                *("run", str(EXAMPLE_DIR), "--env-manager", "local", "--tracking-uri", str(store)),
                *("-P", f"epochs={epochs}", "-P", f"lr={lr}", "--run-name", f"example-lr-{lr}"),
            ],
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
    return store


@pytest.fixture
def ui(example_store: Path) -> Iterator[str]:
    """`mlproj ui` on the example's store, as a user starts it (MLFLOW_ALLOW_FILE_STORE unset)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_ALLOW_FILE_STORE"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlproj",
            "ui",
            "--port",
            str(port),
            "--tracking-uri",
            str(example_store),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("mlproj ui did not answer within 120 s")
        yield url
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("CI installs chromium and chromium-driver (.ci/setup.d/10-apt.sh)")
        pytest.skip("apt-get install chromium chromium-driver to test `mlproj ui` in a browser")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for(driver: Any, condition: Any, what: str, timeout: float = 90) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.5).until(condition, message=what)


@pytest.mark.slow
def test_mlflow_ui_shows_the_example_runs_and_a_metric_chart(
    ui: str, browser: Any, example_store: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    # under the test's tmp dir; MLPROJ_TEST_ARTIFACTS keeps them where CI collects artifacts
    # (pytest removes all but its last three tmp dirs, and parallel sessions share them)
    keep = os.environ.get("MLPROJ_TEST_ARTIFACTS")
    shots = Path(keep) / "mlproj-ui" if keep else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of `mlproj ui`: {shots}")
    # MLflow 3 opens an experiment on its GenAI traces; the runs table is the "Model training" view
    browser.get(f"{ui}/#/experiments/0/runs?workflowType=machine_learning")
    for name in ("example-lr-0.01", "example-lr-0.001"):
        _wait_for(browser, lambda d, n=name: n in d.page_source, f"run {name} in the runs table")
    browser.save_screenshot(str(shots / "runs-table.png"))

    from mlflow import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    runs = MlflowClient(tracking_uri=example_store.as_uri()).search_runs(["0"])
    run = next(r for r in runs if r.info.run_name == "example-lr-0.01")  # the 2-epoch one
    metric = "val_accuracy"
    assert (
        len(
            MlflowClient(tracking_uri=example_store.as_uri()).get_metric_history(
                run.info.run_id, metric
            )
        )
        == 2
    )
    browser.get(f"{ui}/#/experiments/0/runs/{run.info.run_id}/model-metrics")
    chart = _wait_for(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg"),
        f"a plotly chart of {metric}",
    )
    _wait_for(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .scatterlayer .trace"),
        "a plotted trace",
    )
    assert chart[0].size["width"] > 100 and chart[0].size["height"] > 100
    _wait_for(browser, lambda d: metric in d.page_source, f"the {metric} chart's title")
    browser.save_screenshot(str(shots / "metric-chart.png"))
    assert (shots / "runs-table.png").stat().st_size > 10_000
