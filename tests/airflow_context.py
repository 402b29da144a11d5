"""A minimal Airflow task context for calling operators' ``execute`` directly.

The connection fixtures come from the provider's pytest plugin (see the root conftest);
``connection_json`` is re-exported here for the tests that build ``AIRFLOW_CONN_*`` themselves.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_toloka.testing.pytest_plugin import connection_json

__all__ = ["RecordingTaskInstance", "connection_json", "make_context"]


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
