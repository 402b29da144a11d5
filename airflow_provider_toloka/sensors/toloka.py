"""Sensors: wait for Toloka operations and pools, poking or deferred to the triggerer."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_toloka.links.toloka import TolokaLink
from airflow_provider_toloka.triggers.toloka import raise_for_event
from airflow_provider_toloka.utils.mixins import DEFERRAL_GRACE_SECONDS, TolokaHookMixin, default_deferrable, fail_fast
from airflow_provider_toloka.utils.params import object_id, operation_ids_of

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
    :param close_pool_on_kill: when the task is killed (marked failed or cleared, or timed out)
        while it waits, close the pools that its POOL.OPEN operations open. Off by default. Waiting
        deferred, this needs a triggerer that calls trigger ``on_kill`` (Airflow 3.3+).
    """

    template_fields: Sequence[str] = ("operation_ids", "toloka_conn_id")
    ui_color = "#ffd8a8"
    operator_extra_links = (TolokaLink(),)

    def __init__(
        self,
        *,
        operation_ids: str | list[str],
        deferrable: bool = default_deferrable(),
        close_pool_on_kill: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 10)
        super().__init__(**kwargs)
        self.operation_ids = operation_ids
        self.deferrable = deferrable
        self.close_pool_on_kill = close_pool_on_kill
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
        self.defer_for_operations(
            self._tracker.operation_ids,
            timeout=self.timeout,
            poll_interval=self.poke_interval,
            close_pool_on_kill=self.close_pool_on_kill,
        )

    def on_kill(self) -> None:
        """With ``close_pool_on_kill``, close the pools that the awaited POOL.OPEN operations open."""
        if self.close_pool_on_kill:
            self.close_pools_on_kill(self.pools_opened_by(operation_ids_of(self.operation_ids)))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, int]:
        """Resume after the trigger fired: return the totals or fail with the trigger's message."""
        totals = raise_for_event(event)
        self.log.info("Operations %s succeeded: %s", event.get("operation_ids"), totals)
        return totals


class TolokaPoolSensor(TolokaHookMixin, BaseSensorOperator):
    """Waits until a pool's labeling is done: closed for a reason that means done, no assignment ACTIVE.

    Done by default means closed with reason COMPLETED (every task has its answers). It fails at
    once, naming the reason, when the pool closes for NOT_ENOUGH_BALANCE, BLOCKED or
    ASSIGNMENTS_LIMIT_EXCEEDED, or for EXPIRED or MANUAL unless ``done_close_reasons`` allows
    them. Each poll logs the progress (tasks, assignments submitted, accepted, rejected and active,
    money spent). Labeling takes hours to days: by default (``[operators] default_deferrable``) set
    ``deferrable=True`` so no worker slot is held. Returns a small summary: ``pool_id``,
    ``status``, ``last_close_reason``, ``tasks``, ``assignments`` (count per status), ``spent``.

    :param pool_id: the pool (templated, or ``create_pool.output``).
    :param done_close_reasons: close reasons that mean done (templated): any of COMPLETED,
        EXPIRED and MANUAL; default COMPLETED.
    :param scan_limit: at most this many tasks and assignments are counted per poll (0: log no counts).
    :param toloka_conn_id: the Toloka connection (templated).
    :param deferrable: wait in the triggerer instead of holding a worker slot.
    :param close_pool_on_kill: when the task is killed (marked failed or cleared, or timed out)
        while it waits, close the pool so it stops spending unwatched. Off by default: the pool
        runs on by itself. Waiting deferred, this needs a triggerer that calls trigger ``on_kill``
        (Airflow 3.3+).
    """

    template_fields: Sequence[str] = ("pool_id", "done_close_reasons", "toloka_conn_id")
    ui_color = "#ffd8a8"
    operator_extra_links = (TolokaLink(),)

    def __init__(
        self,
        *,
        pool_id: str,
        done_close_reasons: str | Sequence[str] = ("COMPLETED",),
        scan_limit: int = 50_000,
        deferrable: bool = default_deferrable(),
        close_pool_on_kill: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 60)
        super().__init__(**kwargs)
        self.close_pool_on_kill = close_pool_on_kill
        self.pool_id = pool_id
        self.done_close_reasons = done_close_reasons
        self.scan_limit = scan_limit
        self.deferrable = deferrable
        self._linked = False

    def _reasons(self) -> tuple[str, ...]:
        from airflow_provider_toloka.client.pools import done_reasons_of

        return done_reasons_of(self.done_close_reasons)

    @fail_fast
    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_provider_toloka.client.errors import TolokaError, is_permanent
        from airflow_provider_toloka.client.pools import TolokaPoolClosedError, judge_pool

        pool_id = object_id(self.pool_id, "pool_id")
        reasons = self._reasons()
        try:
            if not self._linked:
                self.link_to(context, project_id=self.hook.client.get_pool(pool_id).project_id, pool_id=pool_id)
                self._linked = True
            state = self.hook.client.read_pool_state(pool_id, self.scan_limit)
        except TolokaError as exc:
            if is_permanent(exc):
                raise
            self.log.warning("Toloka is not answering (%s); poking again until the timeout", exc)
            return False
        verdict, why = judge_pool(state, reasons)
        self.log.info("%s; %s", state.describe(), why)
        if verdict == "failed":
            raise TolokaPoolClosedError(why)
        if verdict == "pending":
            return False
        return PokeReturnValue(is_done=True, xcom_value=state.summary())

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if isinstance(done, PokeReturnValue):
            return done.xcom_value
        from airflow_provider_toloka.triggers.toloka import TolokaPoolTrigger

        self.log.info("Deferring: waiting for pool %s in the triggerer", self.pool_id)
        self.defer(
            trigger=TolokaPoolTrigger(
                object_id(self.pool_id, "pool_id"),
                self.toloka_conn_id,
                self.poke_interval,
                time.time() + self.timeout,
                list(self._reasons()),
                self.scan_limit,
                close_pool_on_kill=self.close_pool_on_kill,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + DEFERRAL_GRACE_SECONDS),
        )

    def on_kill(self) -> None:
        """With ``close_pool_on_kill``, close the pool waited on."""
        if self.close_pool_on_kill:
            self.close_pools_on_kill([object_id(self.pool_id, "pool_id")])

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: return the pool's summary or fail with the trigger's message."""
        summary = raise_for_event(event)
        self.log.info("Pool %s is done: %s", event.get("pool_id"), summary)
        return summary
