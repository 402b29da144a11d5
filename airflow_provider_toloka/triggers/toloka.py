"""Triggers: wait for Toloka operations and pools in the triggerer, without holding a worker slot.

The event a trigger fires is a small typed contract, :class:`OperationEvent` or :class:`PoolEvent`; the task that
deferred turns it back into a result or a failure with :func:`raise_for_event`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Literal, TypedDict

from airflow.triggers.base import BaseTrigger, TriggerEvent

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


class TolokaOperationTrigger(BaseTrigger):
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
        super().__init__()
        self.operation_ids = list(operation_ids)
        self.toloka_conn_id = toloka_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.close_pool_on_kill = close_pool_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "operation_ids": self.operation_ids,
                "toloka_conn_id": self.toloka_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "close_pool_on_kill": self.close_pool_on_kill,
            },
        )

    async def on_kill(self) -> None:
        """With ``close_pool_on_kill``, close the pools that the awaited POOL.OPEN operations open."""
        if self.close_pool_on_kill:
            await close_pools_on_kill(self, self.toloka_conn_id, None)

    def _event(self, status: EventStatus, **fields: Any) -> TriggerEvent:
        payload: OperationEvent = {"status": status, "operation_ids": self.operation_ids, **fields}  # type: ignore[typeddict-item]
        return TriggerEvent(payload)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_toloka.client.errors import TolokaError, TolokaOperationFailedError, is_permanent
        from airflow_provider_toloka.client.operations import OperationTracker
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        try:
            client = await TolokaHook(self.toloka_conn_id).aget_client()
        except Exception as exc:
            yield self._event("error", message=f"Cannot connect to Toloka: {exc}")
            return
        tracker = OperationTracker(self.operation_ids)
        async with client:
            while True:
                try:
                    if (await client.poll_operations(tracker)).done:
                        yield self._event("success", totals=tracker.totals())
                        return
                except TolokaOperationFailedError as exc:
                    yield self._event("failed", message=str(exc))
                    return
                except TolokaError as exc:
                    if is_permanent(exc):
                        yield self._event("error", message=f"{type(exc).__name__}: {exc}")
                        return
                    self.log.warning("Toloka is not answering (%s); waiting on until the timeout", exc)
                except Exception as exc:
                    self.log.exception("Unexpected error while polling Toloka operations")
                    yield self._event("error", message=f"{type(exc).__name__}: {exc}")
                    return
                if self.end_time is not None and time.time() + self.poll_interval > self.end_time:
                    waited = ", ".join(tracker.pending)
                    yield self._event("timeout", message=f"Toloka operations still running at the timeout: {waited}")
                    return
                await asyncio.sleep(self.poll_interval)


class PoolEvent(TypedDict, total=False):
    """The payload of the one event a :class:`TolokaPoolTrigger` fires.

    ``status`` is ``success`` (with ``summary``: the pool's status, close reason and counts),
    ``failed`` (the pool closed for a reason that means trouble), ``error`` or ``timeout``; all but
    ``success`` carry a ``message``.
    """

    status: EventStatus
    pool_id: str
    summary: dict[str, Any]
    message: str


class TolokaPoolTrigger(BaseTrigger):
    """Polls a pool until it is closed for a reason that means done and no assignment is ACTIVE.

    Logs the progress at each poll. Network errors, server errors and rate limits are waited out
    until ``end_time``; a close for a bad reason (NOT_ENOUGH_BALANCE, BLOCKED, ...) or a permanent
    error ends the wait at once.

    :param pool_id: the pool.
    :param toloka_conn_id: the Toloka connection.
    :param poll_interval: seconds between polls.
    :param end_time: a ``time.time()`` after which the trigger gives up with ``timeout``.
    :param done_close_reasons: the close reasons that mean done.
    :param scan_limit: how many tasks and assignments each poll counts at most (0: no counts).
    :param close_pool_on_kill: when the task is killed while deferred, close the pool (trigger
        ``on_kill``, Airflow 3.3+).
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
    ) -> None:
        super().__init__()
        self.pool_id = pool_id
        self.toloka_conn_id = toloka_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.done_close_reasons = list(done_close_reasons or ["COMPLETED"])
        self.scan_limit = scan_limit
        self.close_pool_on_kill = close_pool_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "pool_id": self.pool_id,
                "toloka_conn_id": self.toloka_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "done_close_reasons": self.done_close_reasons,
                "scan_limit": self.scan_limit,
                "close_pool_on_kill": self.close_pool_on_kill,
            },
        )

    async def on_kill(self) -> None:
        """With ``close_pool_on_kill``, close the pool waited on."""
        if self.close_pool_on_kill:
            await close_pools_on_kill(self, self.toloka_conn_id, [self.pool_id])

    def _event(self, status: EventStatus, **fields: Any) -> TriggerEvent:
        payload: PoolEvent = {"status": status, "pool_id": self.pool_id, **fields}  # type: ignore[typeddict-item]
        return TriggerEvent(payload)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_toloka.client.errors import TolokaError, is_permanent
        from airflow_provider_toloka.client.pools import judge_pool
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        try:
            client = await TolokaHook(self.toloka_conn_id).aget_client()
        except Exception as exc:
            yield self._event("error", message=f"Cannot connect to Toloka: {exc}")
            return
        done_reasons = tuple(self.done_close_reasons)
        async with client:
            while True:
                try:
                    state = await client.read_pool_state(self.pool_id, self.scan_limit)
                    verdict, why = judge_pool(state, done_reasons)
                    self.log.info("%s; %s", state.describe(), why)
                    if verdict == "done":
                        yield self._event("success", summary=state.summary())
                        return
                    if verdict == "failed":
                        yield self._event("failed", message=why, summary=state.summary())
                        return
                except TolokaError as exc:
                    if is_permanent(exc):
                        yield self._event("error", message=f"{type(exc).__name__}: {exc}")
                        return
                    self.log.warning("Toloka is not answering (%s); waiting on until the timeout", exc)
                except Exception as exc:
                    self.log.exception("Unexpected error while polling Toloka pool %s", self.pool_id)
                    yield self._event("error", message=f"{type(exc).__name__}: {exc}")
                    return
                if self.end_time is not None and time.time() + self.poll_interval > self.end_time:
                    yield self._event("timeout", message=f"Pool {self.pool_id} was not done at the timeout")
                    return
                await asyncio.sleep(self.poll_interval)
