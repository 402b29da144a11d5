"""The "Toloka" extra link: its address for each host, and how it is stored when Airflow runs a task."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_toloka.links.toloka import TOLOKA_URL_XCOM_KEY, TolokaLink, toloka_url, web_url

DAGS = Path(__file__).with_name("dags")
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
EMULATOR = "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("api", "pool", "expected"),
    [
        ("https://sandbox.toloka.dev", "7", "https://sandbox.toloka.ai/requester/project/3/pool/7"),
        ("https://toloka.dev", "7", "https://platform.toloka.ai/requester/project/3/pool/7"),
        ("https://toloka.dev/", None, "https://platform.toloka.ai/requester/project/3"),
        (EMULATOR, "7", f"{EMULATOR}/requester/project/3/pool/7"),
    ],
)
def test_web_url(api: str, pool: str | None, expected: str) -> None:
    assert web_url(api, "3", pool) == expected


@pytest.mark.parametrize(
    ("api", "ids", "expected"),
    [
        (EMULATOR, {"operation_id": "op", "project_id": "3", "pool_id": "7"}, f"{EMULATOR}/requester/operation/op"),
        (f"{EMULATOR}/", {"operation_id": "op"}, f"{EMULATOR}/requester/operation/op"),
        (
            "https://toloka.dev",
            {"operation_id": "op", "project_id": "3", "pool_id": "7"},
            "https://platform.toloka.ai/requester/project/3/pool/7",
        ),
        (
            "https://sandbox.toloka.dev",
            {"operation_id": "op", "project_id": "3"},
            "https://sandbox.toloka.ai/requester/project/3",
        ),
        ("https://toloka.dev", {"operation_id": "op"}, None),
        ("https://toloka.dev", {"pool_id": "7"}, None),
        (EMULATOR, {}, None),
    ],
)
def test_toloka_url_picks_the_best_page(api: str, ids: dict[str, str], expected: str | None) -> None:
    assert toloka_url(api, **ids) == expected


class RecordingTaskInstance:
    """A task instance that records XCom pushes and refuses reads."""

    dag_id, task_id, run_id, map_index = "dag", "task", "run", -1

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_persist_pushes_the_address_and_get_link_answers_without_reading() -> None:
    ti, task = RecordingTaskInstance(), type("Task", (), {})()
    url = TolokaLink.persist({"ti": ti, "task": task}, base_url=EMULATOR, project_id="3", pool_id="7")  # type: ignore[typeddict-item]
    assert url == f"{EMULATOR}/requester/project/3/pool/7"
    assert ti.pushed == {TOLOKA_URL_XCOM_KEY: url}
    # No supervisor here: a read of XCom would raise, so this proves the answer comes from memory.
    assert TolokaLink().get_link(task, ti_key=ti) == url  # type: ignore[arg-type]


def test_persist_stores_nothing_without_a_page() -> None:
    ti = RecordingTaskInstance()
    assert TolokaLink.persist({"ti": ti}, base_url="https://toloka.dev", operation_id="op") is None  # type: ignore[typeddict-item]
    assert ti.pushed == {}


def test_the_ui_reads_the_key_that_persist_writes() -> None:
    assert TolokaLink().xcom_key == TOLOKA_URL_XCOM_KEY


@pytest.fixture(scope="module")
def link_dag_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """Run ``toloka_link_dag`` with ``airflow dags test`` in a fresh Airflow home: its output and XComs."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=180)
    done = subprocess.run(
        [AIRFLOW, "dags", "test", "toloka_link_dag"], env=env, capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("select task_id, value from xcom where key = ?", (TOLOKA_URL_XCOM_KEY,)).fetchall()
    links = {task_id: json.loads(value if isinstance(value, str) else bytes(value).decode()) for task_id, value in rows}
    return output, links


@pytest.mark.system
def test_airflow_stores_the_persisted_links(link_dag_run: tuple[str, dict[str, str]]) -> None:
    output, links = link_dag_run
    assert "failed on purpose" in output, output[-3000:]
    host = "http://127.0.0.1:9"
    assert links == {
        "pool": f"{host}/requester/project/3/pool/7",
        "fails_after_link": f"{host}/requester/project/3",
        "fails_before_link": "",
        "deferred": f"{host}/requester/operation/op-1",
        "no_xcom_push": f"{host}/requester/project/4",
    }


@pytest.mark.system
def test_a_task_that_never_linked_logs_no_missing_xcom_error(link_dag_run: tuple[str, dict[str, str]]) -> None:
    output, _ = link_dag_run
    assert "failed on purpose" in output
    assert "XCom not found" not in output
    assert "Failed to push an xcom for task operator extra link" not in output
