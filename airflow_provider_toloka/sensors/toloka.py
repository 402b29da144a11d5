"""Sensors: wait for Toloka operations, poking or deferred to the triggerer."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf

from airflow_provider_toloka.common import operation_ids_of, raise_for_event

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_toloka.hooks.toloka import TolokaHook


class TolokaOperationSensor(BaseSensorOperator):
    """Waits until every given Toloka operation (e.g. TASK.BATCH_CREATE) has succeeded.

    Fails at once, not at the timeout, when one ends FAIL, with its counts and first item
    errors. Returns the summed counts: ``total_count``, ``valid_count``, ``not_valid_count``,
    ``success_count``, ``failed_count`` and ``operations``.

    :param operation_id: one operation id or a list (templated; e.g. the upload task's ``.output``).
    :param toloka_conn_id: the Toloka connection.
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    """

    template_fields: Sequence[str] = ("operation_id",)
    ui_color = "#ffd8a8"

    def __init__(
        self,
        *,
        operation_id: str | list[str],
        toloka_conn_id: str = "toloka_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 10)
        super().__init__(**kwargs)
        self.operation_id = operation_id
        self.toloka_conn_id = toloka_conn_id
        self.deferrable = deferrable
        self._finished: dict[str, Any] = {}

    @cached_property
    def hook(self) -> TolokaHook:
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        return TolokaHook(self.toloka_conn_id)

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow.sdk.exceptions import AirflowFailException

        from airflow_provider_toloka.client.operations import describe_failure, totals

        ids = operation_ids_of(self.operation_id)
        for operation_id in ids:
            if operation_id in self._finished:
                continue
            operation = self.hook.get_operation(operation_id)
            self.log.info("Operation %s is %s", operation_id, operation.status)
            if operation.status == "FAIL":
                raise AirflowFailException(describe_failure(operation, self.hook.get_operation_log(operation_id)))
            if operation.status == "SUCCESS":
                self._finished[operation_id] = operation
        if len(self._finished) < len(ids):
            return False
        result = totals(self._finished[i] for i in ids)
        self.log.info("All %s operation(s) succeeded: %s", len(ids), result)
        return PokeReturnValue(is_done=True, xcom_value=result)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if done:
            return done.xcom_value  # type: ignore[union-attr]
        from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger

        self.defer(
            trigger=TolokaOperationTrigger(
                operation_ids=operation_ids_of(self.operation_id),
                toloka_conn_id=self.toloka_conn_id,
                poll_interval=self.poke_interval,
                end_time=time.time() + self.timeout,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, int]:
        """Resume after the trigger fired: return the totals or fail with the trigger's message."""
        totals = raise_for_event(event)
        self.log.info("Operations %s succeeded: %s", event.get("operation_ids"), totals)
        return totals
