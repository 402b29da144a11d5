"""Triggers: wait for Toloka operations in the triggerer, without holding a worker slot.

The event a trigger fires is a small typed contract, :class:`OperationEvent`; the task that
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


def raise_for_event(event: OperationEvent | dict[str, Any] | None) -> dict[str, int]:
    """The totals of a success event; otherwise fail the task with the event's message.

    Failed operations, permanent errors and timeouts fail the task for good (a retry would wait
    for the same thing again, or past the timeout the user set).
    """
    from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

    if not event:
        raise AirflowFailException("The Toloka trigger fired no event")
    status = event.get("status")
    if status == "success":
        return dict(event.get("totals") or {})
    message = event.get("message") or f"Toloka operations ended with status {status}"
    if status == "timeout":
        raise AirflowSensorTimeout(message)
    raise AirflowFailException(message)


class TolokaOperationTrigger(BaseTrigger):
    """Polls Toloka operations until all succeed, one fails, or time runs out.

    Network errors, server errors and rate limits are waited out until ``end_time`` (each is
    logged); a failed operation or a permanent error ends the wait at once.

    :param operation_ids: the operations to wait for.
    :param toloka_conn_id: the Toloka connection.
    :param poll_interval: seconds between polls.
    :param end_time: a ``time.time()`` after which the trigger gives up with ``timeout``.
    """

    def __init__(
        self,
        operation_ids: list[str],
        toloka_conn_id: str = "toloka_default",
        poll_interval: float = 10.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()
        self.operation_ids = list(operation_ids)
        self.toloka_conn_id = toloka_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "operation_ids": self.operation_ids,
                "toloka_conn_id": self.toloka_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

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
