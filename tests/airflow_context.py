"""Airflow helpers of the tests: a minimal task context, and ``toloka_default`` on an emulator.

The fixtures here are made available to every test by the root conftest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_toloka.testing import TolokaEmulator


class RecordingTaskInstance:
    """Enough of a task instance for the operators: identity and ``xcom_push``."""

    def __init__(self, dag_id: str = "dag", task_id: str = "task", run_id: str = "run_1", map_index: int = -1):
        self.dag_id, self.task_id, self.run_id, self.map_index = dag_id, task_id, run_id, map_index
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def make_context(**identity: Any) -> dict[str, Any]:
    """A context whose ``ti`` records XCom pushes; the same identity means a retry of the same try."""
    return {"ti": RecordingTaskInstance(**identity), "dag": None}


def connection_json(url: str, token: str, **extra: Any) -> str:
    """The ``AIRFLOW_CONN_*`` JSON form of a Toloka connection to ``url``."""
    return json.dumps({"conn_type": "toloka", "password": token, "host": url, "extra": extra})


@pytest.fixture
def toloka_conn(monkeypatch: pytest.MonkeyPatch, emulator, token: str) -> str:
    """Point the ``toloka_default`` connection at the session emulator; return its URL."""
    monkeypatch.setenv("AIRFLOW_CONN_TOLOKA_DEFAULT", connection_json(emulator.url, token, backoff_base=0.01))
    return emulator.url


@pytest.fixture
def slow_toloka_conn(monkeypatch: pytest.MonkeyPatch, make_client, token: str) -> Iterator:
    """``toloka_default`` pointed at an emulator whose operations take 30 s; yields a client of it."""
    with TolokaEmulator(token=token, operation_delay=30) as slow:
        monkeypatch.setenv("AIRFLOW_CONN_TOLOKA_DEFAULT", connection_json(slow.url, token, backoff_base=0.01))
        yield make_client(slow.url)
