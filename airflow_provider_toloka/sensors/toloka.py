"""Sensors: wait for Toloka operations and pools, poking or deferred to the triggerer."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_toloka.links.toloka import TolokaLink
from airflow_provider_toloka.triggers.toloka import raise_for_event
from airflow_provider_toloka.utils.mixins import TolokaHookMixin, default_deferrable, fail_fast
from airflow_provider_toloka.utils.params import object_id, operation_ids_of

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_toloka.client.operations import OperationTracker


class TolokaWaitSensor(TolokaHookMixin, BaseSensorOperator):
    """What the Toloka sensors share: poking or deferring, riding out outages, closing pools on kill.

    A poke (:meth:`check`) that meets a network error, a server error or a rate limit logs it and
    pokes again until ``timeout``; permanent errors fail the task at once. Deferrable, the sensor
    pokes once and hands the rest of the wait to its trigger (:meth:`defer_to_triggerer`).

    :param deferrable: wait in the triggerer instead of holding a worker slot
        (default: Airflow's ``[operators] default_deferrable``).
    :param close_pool_on_kill: when the task is killed while it waits, close the pools waited on
        (:meth:`pools_to_close`). Off by default.
    """

    ui_color = "#ffd8a8"
    operator_extra_links = (TolokaLink(),)
    #: Seconds between pokes unless ``poke_interval`` is given.
    default_poke_interval: float = 10

    def __init__(
        self, *, deferrable: bool = default_deferrable(), close_pool_on_kill: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("poke_interval", self.default_poke_interval)
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.close_pool_on_kill = close_pool_on_kill

    def check(self, context: Context) -> bool | PokeReturnValue:
        """One poke, which may raise the client's errors."""
        raise NotImplementedError

    def defer_to_triggerer(self) -> None:
        """Hand the wait to this sensor's trigger."""
        raise NotImplementedError

    def pools_to_close(self) -> list[str]:
        """The pools ``on_kill`` closes with ``close_pool_on_kill``."""
        raise NotImplementedError

    @fail_fast
    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_provider_toloka.client.errors import TolokaError, is_permanent

        try:
            return self.check(context)
        except TolokaError as exc:
            if is_permanent(exc):
                raise
            self.log.warning("Toloka is not answering (%s); poking again until the timeout", exc)
            return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if isinstance(done, PokeReturnValue):
            return done.xcom_value
        self.defer_to_triggerer()

    def on_kill(self) -> None:
        """With ``close_pool_on_kill``, close the pools waited on."""
        if self.close_pool_on_kill:
            self.close_pools_on_kill(self.pools_to_close())


class TolokaOperationSensor(TolokaWaitSensor):
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

    def __init__(self, *, operation_ids: str | list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.operation_ids = operation_ids
        self._tracker: OperationTracker | None = None

    def check(self, context: Context) -> bool | PokeReturnValue:
        from airflow_provider_toloka.client.operations import OperationTracker

        if self._tracker is None:
            self._tracker = OperationTracker(operation_ids_of(self.operation_ids))
            self.link_to(context, operation_id=self._tracker.operation_ids[0])
        tracker = self._tracker
        self.hook.client.poll_operations(tracker)
        self.log.info("%s of %s operation(s) succeeded", len(tracker.finished), len(tracker.operation_ids))
        if not tracker.done:
            return False
        totals = tracker.totals()
        self.log.info("All %s operation(s) succeeded: %s", len(tracker.operation_ids), totals)
        return PokeReturnValue(is_done=True, xcom_value=totals)

    def defer_to_triggerer(self) -> None:
        assert self._tracker is not None
        self.defer_for_operations(
            self._tracker.operation_ids,
            timeout=self.timeout,
            poll_interval=self.poke_interval,
            close_pool_on_kill=self.close_pool_on_kill,
        )

    def pools_to_close(self) -> list[str]:
        """The pools that the awaited POOL.OPEN operations open."""
        return self.pools_opened_by(operation_ids_of(self.operation_ids))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, int]:
        """Resume after the trigger fired: return the totals or fail with the trigger's message."""
        totals = raise_for_event(event)
        self.log.info("Operations %s succeeded: %s", event.get("operation_ids"), totals)
        return totals


class TolokaPoolSensor(TolokaWaitSensor):
    """Waits until a pool's labeling is done: closed for a reason that means done, no assignment ACTIVE.

    Done by default means closed with reason COMPLETED (every task has its answers). It fails at
    once, naming the reason, when the pool closes for NOT_ENOUGH_BALANCE, BLOCKED or
    ASSIGNMENTS_LIMIT_EXCEEDED, or for EXPIRED or MANUAL unless ``done_close_reasons`` allows
    them. Each poll logs the progress (tasks, assignments submitted, accepted, rejected and active,
    money spent). Labeling takes hours to days: by default (``[operators] default_deferrable``) set
    ``deferrable=True`` so no worker slot is held. Returns a small summary: ``pool_id``,
    ``status``, ``last_close_reason``, ``tasks``, ``assignments`` (count per status) and ``spent``:
    what the accepted assignments cost, ``{"accepted_assignments", "reward", "fee_rate", "fee",
    "total", "complete"}``, the fee at the connection extra ``fee_rate`` as in the cost estimate
    (bonuses not counted); the task log states it in one line when the pool is done.

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
    default_poke_interval: float = 60

    def __init__(
        self,
        *,
        pool_id: str,
        done_close_reasons: str | Sequence[str] = ("COMPLETED",),
        scan_limit: int = 50_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.done_close_reasons = done_close_reasons
        self.scan_limit = scan_limit
        self._linked = False

    def _reasons(self) -> tuple[str, ...]:
        from airflow_provider_toloka.client.pools import done_reasons_of

        return done_reasons_of(self.done_close_reasons)

    def check(self, context: Context) -> bool | PokeReturnValue:
        from airflow_provider_toloka.client.pools import TolokaPoolClosedError, judge_pool

        pool_id = object_id(self.pool_id, "pool_id")
        reasons = self._reasons()
        if not self._linked:
            self.link_to(context, project_id=self.hook.client.get_pool(pool_id).project_id, pool_id=pool_id)
            self._linked = True
        state = self.hook.client.read_pool_state(pool_id, self.scan_limit)
        fee_rate = self.hook.fee_rate
        verdict, why = judge_pool(state, reasons)
        self.log.info("%s; %s", state.describe(fee_rate), why)
        if verdict == "failed":
            raise TolokaPoolClosedError(why)
        if verdict == "pending":
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._done(state.summary(fee_rate)))

    def defer_to_triggerer(self) -> None:
        from airflow_provider_toloka.triggers.toloka import TolokaPoolTrigger

        self.log.info("Deferring: waiting for pool %s in the triggerer", self.pool_id)
        trigger = TolokaPoolTrigger(
            object_id(self.pool_id, "pool_id"),
            self.toloka_conn_id,
            self.poke_interval,
            time.time() + self.timeout,
            list(self._reasons()),
            self.scan_limit,
            close_pool_on_kill=self.close_pool_on_kill,
            fee_rate=self.hook.fee_rate,
        )
        self.defer_to_trigger(trigger, self.timeout)

    def pools_to_close(self) -> list[str]:
        """The pool waited on."""
        return [object_id(self.pool_id, "pool_id")]

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired: return the pool's summary or fail with the trigger's message."""
        return self._done(raise_for_event(event))

    def _done(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Log the done pool's summary and what it cost in one line; return the summary."""
        from airflow_provider_toloka.client.cost import Spend

        spent = summary.get("spent")
        cost = Spend.from_dict(spent).describe() if spent else "spending not counted (scan_limit=0)"
        self.log.info("Pool %s is done (%s): %s", summary.get("pool_id"), summary.get("last_close_reason"), cost)
        return summary
