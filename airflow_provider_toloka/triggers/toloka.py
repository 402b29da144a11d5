"""Triggers: wait for Toloka operations in the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class TolokaOperationTrigger(BaseTrigger):
    """Polls Toloka operations until all succeed, one fails, or time runs out.

    Fires one event: ``{"status": "success", "operation_ids", "totals"}``, or
    ``{"status": "failed" | "error" | "timeout", "message", "operation_ids"}``.

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

    def _event(self, status: str, **fields: Any) -> TriggerEvent:
        return TriggerEvent({"status": status, "operation_ids": self.operation_ids, **fields})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_toloka.client.operations import describe_failure, totals
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        try:
            client = await TolokaHook(self.toloka_conn_id).aget_client()
        except Exception as exc:
            yield self._event("error", message=f"Cannot connect to Toloka: {exc}")
            return
        finished: dict[str, Any] = {}
        try:
            while True:
                for operation_id in self.operation_ids:
                    if operation_id in finished:
                        continue
                    operation = await client.get_operation(operation_id)
                    if operation.status == "FAIL":
                        log_items = await client.get_operation_log(operation_id)
                        yield self._event("failed", message=describe_failure(operation, log_items))
                        return
                    if operation.status == "SUCCESS":
                        finished[operation_id] = operation
                if len(finished) == len(self.operation_ids):
                    yield self._event("success", totals=totals(finished.values()))
                    return
                if self.end_time is not None and time.time() + self.poll_interval > self.end_time:
                    pending = [i for i in self.operation_ids if i not in finished]
                    yield self._event("timeout", message=f"Operations still running at the timeout: {pending}")
                    return
                await asyncio.sleep(self.poll_interval)
        except Exception as exc:
            yield self._event("error", message=f"{type(exc).__name__}: {exc}")
        finally:
            await client.aclose()
