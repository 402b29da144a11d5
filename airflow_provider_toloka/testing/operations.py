"""Asynchronous operations whose status follows from the clock (no timers).

An operation is PENDING for the first third of its delay, RUNNING until the delay has passed,
then SUCCESS or FAIL (decided when it was submitted). Its effects are applied by the store the
first time a request finds it due (see ``EmulatorState``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_toloka.testing.timefmt import iso_utc

Effect = Callable[["Operation"], None]

TASK_BATCH_CREATE = "TASK.BATCH_CREATE"
TASK_SUITE_BATCH_CREATE = "TASK_SUITE.BATCH_CREATE"
POOL_OPEN = "POOL.OPEN"
POOL_CLOSE = "POOL.CLOSE"


class Operation:
    """One asynchronous operation.

    :param operation_id: its id.
    :param kind: its type, e.g. ``TASK.BATCH_CREATE``.
    :param submitted: POSIX time it was submitted.
    :param delay: seconds from submission to completion.
    :param parameters: the ``parameters`` object shown to clients.
    :param details: the ``details`` object shown to clients once finished (updated by the effect).
    :param succeeds: final status is SUCCESS when true, FAIL otherwise.
    :param effect: applied once when the operation finishes.
    """

    __slots__ = (
        "applied",
        "delay",
        "details",
        "effect",
        "id",
        "log_source",
        "parameters",
        "submitted",
        "succeeds",
        "type",
    )

    def __init__(
        self,
        operation_id: str,
        kind: str,
        submitted: float,
        delay: float,
        parameters: dict[str, Any],
        details: dict[str, Any] | None = None,
        succeeds: bool = True,
        effect: Effect | None = None,
    ) -> None:
        self.id = operation_id
        self.type = kind
        self.submitted = submitted
        self.delay = delay
        self.parameters = parameters
        self.details = details or {}
        self.succeeds = succeeds
        self.effect = effect
        self.applied = False
        #: Builds the log lines on request (kept lean: no per-item objects in memory).
        self.log_source: Callable[[], list[dict[str, Any]]] | None = None

    @property
    def due(self) -> float:
        """POSIX time at which the operation finishes."""
        return self.submitted + self.delay

    @property
    def started(self) -> float:
        """POSIX time at which the operation starts running."""
        return self.submitted + self.delay / 3

    def status(self, now: float) -> str:
        """PENDING, RUNNING, SUCCESS or FAIL at time ``now``."""
        if now >= self.due:
            return "SUCCESS" if self.succeeds else "FAIL"
        return "RUNNING" if now >= self.started else "PENDING"

    def apply(self) -> None:
        """Apply the effect once (idempotent)."""
        if not self.applied:
            self.applied = True
            if self.effect is not None:
                self.effect(self)
                self.effect = None

    def to_json(self, now: float) -> dict[str, Any]:
        """The API representation at time ``now``."""
        status = self.status(now)
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "status": status,
            "submitted": iso_utc(self.submitted),
            "parameters": self.parameters,
        }
        if status == "PENDING":
            body["progress"] = 0
        else:
            body["started"] = iso_utc(self.started)
            if status == "RUNNING":
                body["progress"] = min(99, int(100 * (now - self.started) / max(self.due - self.started, 1e-9)))
            else:
                body["finished"] = iso_utc(self.due)
                body["progress"] = 100
                if self.details:  # the counts are known once the operation has finished
                    body["details"] = self.details
        return body

    def log(self, now: float) -> list[dict[str, Any]]:
        """The operation log: empty until it has finished."""
        if now < self.due or self.log_source is None:
            return []
        return self.log_source()
