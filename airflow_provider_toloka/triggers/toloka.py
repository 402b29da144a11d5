"""Triggers: wait for Toloka operations and pools in the triggerer, without holding a worker slot.

The event a trigger fires is a small typed contract, :class:`OperationEvent` or :class:`PoolEvent`; the task that
deferred turns it back into a result or a failure with :func:`raise_for_event`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_toloka.client.async_client import AsyncTolokaClient

#: How an operation wait ended.
EventStatus = Literal["success", "failed", "error", "timeout"]


class OperationEvent(TypedDict, total=False):
    """The payload of the one event a :class:`TolokaOperationTrigger` fires.

    ``status`` is ``success`` (with ``totals``: the summed counts of the operations), ``failed``
    (an operation ended FAIL), ``error`` (a permanent error, such as an unknown operation or a
    refused key) or ``timeout``; all but ``success`` carry a ``message``.
    """

    status: EventStatus
    operation_ids: list[str]
    totals: dict[str, int]
    message: str


def raise_for_event(event: OperationEvent | PoolEvent | dict[str, Any] | None) -> dict[str, Any]:
    """The totals (operations) or summary (pool) of a success event; otherwise fail the task with its message.

    Failed operations, permanent errors and timeouts fail the task for good (a retry would wait
    for the same thing again, or past the timeout the user set).
    """
    from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

    if not event:
        raise AirflowFailException("The Toloka trigger fired no event")
    status = event.get("status")
    if status == "success":
        result: dict[str, Any] = event.get("totals") or event.get("summary") or {}  # type: ignore[assignment]
        return dict(result)
    message = event.get("message") or f"Toloka operations ended with status {status}"
    if status == "timeout":
        raise AirflowSensorTimeout(message)
    raise AirflowFailException(message)


async def close_pools_on_kill(trigger: BaseTrigger, toloka_conn_id: str, pool_ids: list[str] | None) -> None:
    """Close pools from a trigger's ``on_kill`` (the task was killed while deferred); errors are logged.

    :param pool_ids: the pools, or None for those that the trigger's POOL.OPEN operations open.
    """
    from airflow_provider_toloka.hooks.toloka import TolokaHook
    from airflow_provider_toloka.utils.mixins import opened_pool_id

    try:
        async with await TolokaHook(toloka_conn_id).aget_client() as client:
            if pool_ids is None:
                operations = [await client.get_operation(op) for op in getattr(trigger, "operation_ids", [])]
                pool_ids = [pool for pool in map(opened_pool_id, operations) if pool]
            for pool_id in pool_ids:
                await client.request("POST", f"/pools/{pool_id}/close")
                trigger.log.warning("The task was killed: closed pool %s (close_pool_on_kill=True)", pool_id)
    except Exception as exc:
        trigger.log.warning("The task was killed but its pools could not be closed: %s", exc)


class TolokaPollingTrigger(BaseTrigger):
    """What the Toloka triggers share: the connection, the polling loop, the deadline and ``on_kill``.

    Each poll either ends the wait with an event or lets it go on. Network errors, server errors and
    rate limits are waited out until ``end_time`` (each is logged); a failed operation, a permanent
    error or an unexpected one ends the wait at once. Subclasses say what one poll reads
    (:meth:`poll`), what identifies the wait in its events (:meth:`identity`) and what a timeout
    reports (:meth:`timeout_message`).

    :param toloka_conn_id: the Toloka connection.
    :param poll_interval: seconds between polls.
    :param end_time: a ``time.time()`` after which the trigger gives up with ``timeout``.
    :param close_pool_on_kill: when the task is killed while deferred, close the pools waited on
        (trigger ``on_kill``, Airflow 3.3+).
    """

    def __init__(
        self,
        toloka_conn_id: str = "toloka_default",
        poll_interval: float = 10.0,
        end_time: float | None = None,
        close_pool_on_kill: bool = False,
    ) -> None:
        super().__init__()
        self.toloka_conn_id = toloka_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.close_pool_on_kill = close_pool_on_kill

    def identity(self) -> dict[str, Any]:
        """What every event carries to name the wait (e.g. ``{"pool_id": ...}``)."""
        raise NotImplementedError

    def own_kwargs(self) -> dict[str, Any]:
        """The subclass's own constructor arguments, for :meth:`serialize`."""
        return self.identity()

    def pools_to_close(self) -> list[str] | None:
        """The pools ``on_kill`` closes, or None for those that the awaited POOL.OPEN operations open."""
        return None

    async def poll(self, client: AsyncTolokaClient) -> TriggerEvent | None:
        """Read once; the event that ends the wait, or None to poll again."""
        raise NotImplementedError

    def timeout_message(self) -> str:
        """What the ``timeout`` event says."""
        raise NotImplementedError

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self.own_kwargs(),
                "toloka_conn_id": self.toloka_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "close_pool_on_kill": self.close_pool_on_kill,
            },
        )

    async def on_kill(self) -> None:
        """With ``close_pool_on_kill``, close the pools waited on."""
        if self.close_pool_on_kill:
            await close_pools_on_kill(self, self.toloka_conn_id, self.pools_to_close())

    def event(self, status: EventStatus, **fields: Any) -> TriggerEvent:
        """The one event of this wait."""
        return TriggerEvent({"status": status, **self.identity(), **fields})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_toloka.client.errors import TolokaError, TolokaOperationFailedError, is_permanent
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        try:
            client = await TolokaHook(self.toloka_conn_id).aget_client()
        except Exception as exc:
            yield self.event("error", message=f"Cannot connect to Toloka: {exc}")
            return
        async with client:
            while True:
                event: TriggerEvent | None = None
                try:
                    event = await self.poll(client)
                except TolokaOperationFailedError as exc:
                    event = self.event("failed", message=str(exc))
                except TolokaError as exc:
                    if is_permanent(exc):
                        event = self.event("error", message=f"{type(exc).__name__}: {exc}")
                    else:
                        self.log.warning("Toloka is not answering (%s); waiting on until the timeout", exc)
                except Exception as exc:
                    self.log.exception("Unexpected error while polling Toloka for %s", self.identity())
                    event = self.event("error", message=f"{type(exc).__name__}: {exc}")
                if event is None and self.end_time is not None and time.time() + self.poll_interval > self.end_time:
                    event = self.event("timeout", message=self.timeout_message())
                if event is not None:
                    yield event
                    return
                await asyncio.sleep(self.poll_interval)


class TolokaOperationTrigger(TolokaPollingTrigger):
    """Polls Toloka operations until all succeed, one fails, or time runs out.

    Network errors, server errors and rate limits are waited out until ``end_time`` (each is
    logged); a failed operation or a permanent error ends the wait at once.

    :param operation_ids: the operations to wait for.
    :param toloka_conn_id: the Toloka connection.
    :param poll_interval: seconds between polls.
    :param end_time: a ``time.time()`` after which the trigger gives up with ``timeout``.
    :param close_pool_on_kill: when the task is killed while deferred, close the pools that its
        POOL.OPEN operations open (trigger ``on_kill``, Airflow 3.3+).
    """

    def __init__(
        self,
        operation_ids: list[str],
        toloka_conn_id: str = "toloka_default",
        poll_interval: float = 10.0,
        end_time: float | None = None,
        close_pool_on_kill: bool = False,
    ) -> None:
        from airflow_provider_toloka.client.operations import OperationTracker

        super().__init__(toloka_conn_id, poll_interval, end_time, close_pool_on_kill)
        self.operation_ids = list(operation_ids)
        self._tracker = OperationTracker(self.operation_ids)

    def identity(self) -> dict[str, Any]:
        return {"operation_ids": self.operation_ids}

    async def poll(self, client: AsyncTolokaClient) -> TriggerEvent | None:
        if (await client.poll_operations(self._tracker)).done:
            return self.event("success", totals=self._tracker.totals())
        return None

    def timeout_message(self) -> str:
        return f"Toloka operations still running at the timeout: {', '.join(self._tracker.pending)}"


class PoolEvent(TypedDict, total=False):
    """The payload of the one event a :class:`TolokaPoolTrigger` fires.

    ``status`` is ``success`` (with ``summary``: the pool's status, close reason, counts and what
    was spent), ``failed`` (the pool closed for a reason that means trouble), ``error`` or
    ``timeout``; all but ``success`` carry a ``message``.
    """

    status: EventStatus
    pool_id: str
    summary: dict[str, Any]
    message: str


class TolokaPoolTrigger(TolokaPollingTrigger):
    """Polls a pool until it is closed for a reason that means done and no assignment is ACTIVE.

    Logs the progress at each poll, with what was spent (reward plus the fee at ``fee_rate``).
    Network errors, server errors and rate limits are waited out until ``end_time``; a close for a
    bad reason (NOT_ENOUGH_BALANCE, BLOCKED, ...) or a permanent error ends the wait at once.

    :param pool_id: the pool.
    :param toloka_conn_id: the Toloka connection.
    :param poll_interval: seconds between polls.
    :param end_time: a ``time.time()`` after which the trigger gives up with ``timeout``.
    :param done_close_reasons: the close reasons that mean done.
    :param scan_limit: how many tasks and assignments each poll counts at most (0: no counts).
    :param close_pool_on_kill: when the task is killed while deferred, close the pool (trigger
        ``on_kill``, Airflow 3.3+).
    :param fee_rate: the platform fee as a fraction of the reward, for what was spent (default:
        :data:`~airflow_provider_toloka.client.cost.DEFAULT_FEE_RATE`; the sensor passes its connection's).
    """

    def __init__(
        self,
        pool_id: str,
        toloka_conn_id: str = "toloka_default",
        poll_interval: float = 60.0,
        end_time: float | None = None,
        done_close_reasons: list[str] | None = None,
        scan_limit: int = 50_000,
        close_pool_on_kill: bool = False,
        fee_rate: float | None = None,
    ) -> None:
        from airflow_provider_toloka.client.cost import fee_rate_of

        super().__init__(toloka_conn_id, poll_interval, end_time, close_pool_on_kill)
        self.pool_id = pool_id
        self.done_close_reasons = list(done_close_reasons or ["COMPLETED"])
        self.scan_limit = scan_limit
        self.fee_rate = fee_rate_of(fee_rate)

    def identity(self) -> dict[str, Any]:
        return {"pool_id": self.pool_id}

    def own_kwargs(self) -> dict[str, Any]:
        return {
            "pool_id": self.pool_id,
            "done_close_reasons": self.done_close_reasons,
            "scan_limit": self.scan_limit,
            "fee_rate": self.fee_rate,
        }

    def pools_to_close(self) -> list[str] | None:
        return [self.pool_id]

    async def poll(self, client: AsyncTolokaClient) -> TriggerEvent | None:
        from airflow_provider_toloka.client.pools import judge_pool

        state = await client.read_pool_state(self.pool_id, self.scan_limit)
        verdict, why = judge_pool(state, tuple(self.done_close_reasons))
        self.log.info("%s; %s", state.describe(self.fee_rate), why)
        if verdict == "done":
            return self.event("success", summary=state.summary(self.fee_rate))
        if verdict == "failed":
            return self.event("failed", message=why, summary=state.summary(self.fee_rate))
        return None

    def timeout_message(self) -> str:
        return f"Pool {self.pool_id} was not done at the timeout"
