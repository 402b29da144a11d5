"""A DAG whose tasks persist the Toloka link at different moments (run by tests/links/test_toloka.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
from airflow.sdk import DAG, BaseOperator

from airflow_provider_toloka.links.toloka import TolokaLink

#: The API host the tasks link to (nothing listens there: the links are only stored).
HOST = "http://127.0.0.1:9"


class LinkingOperator(BaseOperator):
    """Persists a link to ``ids`` (unless empty), then fails, defers once, or succeeds."""

    operator_extra_links = (TolokaLink(),)

    def __init__(self, *, ids: dict[str, str], outcome: str = "succeed", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids, self.outcome = ids, outcome

    def execute(self, context: Any) -> None:
        if self.ids:
            TolokaLink.persist(context, base_url=HOST, **self.ids)
        if self.outcome == "fail":
            raise RuntimeError("failed on purpose")
        if self.outcome == "defer":
            self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=0.1)), method_name="resume")

    def resume(self, context: Any, event: Any = None) -> None:
        """After the deferral, in a fresh copy of the operator: the link must survive."""


with DAG("toloka_link_dag", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    LinkingOperator(task_id="pool", ids={"project_id": "3", "pool_id": "7"})
    LinkingOperator(task_id="fails_before_link", ids={}, outcome="fail", retries=0)
    LinkingOperator(task_id="fails_after_link", ids={"project_id": "3"}, outcome="fail", retries=0)
    LinkingOperator(task_id="deferred", ids={"operation_id": "op-1"}, outcome="defer")
    LinkingOperator(task_id="no_xcom_push", ids={"project_id": "4"}, do_xcom_push=False)
