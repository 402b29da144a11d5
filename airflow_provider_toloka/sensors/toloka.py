"""Sensors: wait for Toloka operations, poking or deferred to the triggerer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_toloka.links.toloka import TolokaLink
from airflow_provider_toloka.triggers.toloka import raise_for_event
from airflow_provider_toloka.utils.mixins import TolokaHookMixin, default_deferrable, fail_fast
from airflow_provider_toloka.utils.params import operation_ids_of

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_toloka.client.operations import OperationTracker


class TolokaOperationSensor(TolokaHookMixin, BaseSensorOperator):
    """Waits until every given Toloka operation (e.g. TASK.BATCH_CREATE) has succeeded.

    Fails at once, not at the timeout, when one ends FAIL, with its counts and first item
    errors; network errors, server errors and rate limits are waited out until ``timeout``,
    which fails the task for good. Returns the summed counts: ``total_count``, ``valid_count``,
    ``not_valid_count``, ``success_count``, ``failed_count`` and ``operations``.

    :param operation_ids: one operation id or a list (templated; e.g. the upload task's ``.output``).
    :param toloka_conn_id: the Toloka connection (templated).
    :param deferrable: wait in the triggerer instead of holding a worker slot
        (default: Airflow's ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("operation_ids", "toloka_conn_id")
    ui_color = "#ffd8a8"
    operator_extra_links = (TolokaLink(),)

    def __init__(
        self, *, operation_ids: str | list[str], deferrable: bool = default_deferrable(), **kwargs: Any
    ) -> None:
        kwargs.setdefault("poke_interval", 10)
        super().__init__(**kwargs)
        self.operation_ids = operation_ids
        self.deferrable = deferrable
        self._tracker: OperationTracker | None = None

    @fail_fast
    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_provider_toloka.client.errors import TolokaError, is_permanent
        from airflow_provider_toloka.client.operations import OperationTracker

        if self._tracker is None:
            self._tracker = OperationTracker(operation_ids_of(self.operation_ids))
            self.link_to(context, operation_id=self._tracker.operation_ids[0])
        tracker = self._tracker
        try:
            self.hook.client.poll_operations(tracker)
        except TolokaError as exc:
            if is_permanent(exc):
                raise
            self.log.warning("Toloka is not answering (%s); poking again until the timeout", exc)
            return False
        self.log.info("%s of %s operation(s) succeeded", len(tracker.finished), len(tracker.operation_ids))
        if not tracker.done:
            return False
        totals = tracker.totals()
        self.log.info("All %s operation(s) succeeded: %s", len(tracker.operation_ids), totals)
        return PokeReturnValue(is_done=True, xcom_value=totals)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if isinstance(done, PokeReturnValue):
            return done.xcom_value
        assert self._tracker is not None
        self.defer_for_operations(self._tracker.operation_ids, timeout=self.timeout, poll_interval=self.poke_interval)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, int]:
        """Resume after the trigger fired: return the totals or fail with the trigger's message."""
        totals = raise_for_event(event)
        self.log.info("Operations %s succeeded: %s", event.get("operation_ids"), totals)
        return totals
