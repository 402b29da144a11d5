"""What a pool's state means for a wait: still labeling, done, or closed for good for a bad reason.

:func:`judge_pool` holds no I/O: the sync client, the sensor and the async trigger read a
:class:`PoolState` and ask it, so the rules of waiting for a pool are written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_toloka.client.cost import DEFAULT_FEE_RATE, Spend, reward_of
from airflow_provider_toloka.client.errors import TolokaOperationFailedError, TolokaValidationError

#: Close reasons that may count as "done" (``COMPLETED`` by default; the others when the caller allows them).
ALLOWABLE_CLOSE_REASONS = ("COMPLETED", "EXPIRED", "MANUAL")

#: Close reasons that always end the wait as a failure: the labeling cannot finish by itself.
FAILED_CLOSE_REASONS = ("NOT_ENOUGH_BALANCE", "BLOCKED", "ASSIGNMENTS_LIMIT_EXCEEDED")

#: What each bad close reason means, for the failure message.
CLOSE_REASON_HINTS = {
    "NOT_ENOUGH_BALANCE": "the account ran out of money: top it up and open the pool again",
    "BLOCKED": "the requester's account was blocked by a Toloka administrator",
    "ASSIGNMENTS_LIMIT_EXCEEDED": "the pool reached the limit of 2 million assigned task suites",
    "EXPIRED": "the pool reached its will_expire date before its tasks were done "
    "(add EXPIRED to the done close reasons to accept that)",
    "MANUAL": "the pool was closed by hand (add MANUAL to the done close reasons to accept that)",
}

#: Tasks and assignments counted per poll at most by default: beyond it the counts are lower bounds,
#: and each poll stays a few requests whatever the pool's size.
DEFAULT_SCAN_LIMIT = 50_000

ASSIGNMENT_STATUSES = ("ACTIVE", "SUBMITTED", "ACCEPTED", "REJECTED", "SKIPPED", "EXPIRED")

Verdict = Literal["pending", "done", "failed"]


class TolokaPoolClosedError(TolokaOperationFailedError):
    """A pool closed for a reason that means its labeling cannot finish (a failed wait, permanent)."""


def done_reasons_of(reasons: str | Iterable[str] | None) -> tuple[str, ...]:
    """The close reasons that mean done, checked: ``COMPLETED`` when none are given.

    :raises TolokaValidationError: for a reason that is unknown or always means failure.
    """
    if reasons is None:
        return ("COMPLETED",)
    items = [reasons] if isinstance(reasons, str) else list(reasons)
    chosen = tuple(dict.fromkeys(str(item).strip().upper() for item in items if str(item).strip()))
    wrong = [item for item in chosen if item not in ALLOWABLE_CLOSE_REASONS]
    if wrong or not chosen:
        raise TolokaValidationError(
            f"done close reasons must be some of {', '.join(ALLOWABLE_CLOSE_REASONS)}, got {list(items)!r}"
        )
    return chosen


@dataclass
class PoolProgress:
    """Counts of a pool's work, read by streaming its tasks and assignments.

    :param tasks: tasks in the pool (control tasks included).
    :param assignments: assignment status -> count.
    :param reward: rewards of the accepted assignments (the fee comes on top: :meth:`spend`).
    :param complete: False when the scan stopped at its limit (counts are lower bounds then).
    """

    tasks: int = 0
    assignments: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ASSIGNMENT_STATUSES, 0))
    reward: float = 0.0
    complete: bool = True

    def add_task(self, scan_limit: int) -> bool:
        """Count one task; False once ``scan_limit`` tasks are counted (stop reading then)."""
        self.tasks += 1
        return self._within(self.tasks, scan_limit)

    def add_assignment(self, assignment: dict[str, Any], reward: float, scan_limit: int) -> bool:
        """Count one assignment (``reward`` when it carries none); False once ``scan_limit`` are counted."""
        status = str(assignment.get("status"))
        self.assignments[status] = self.assignments.get(status, 0) + 1
        if status == "ACCEPTED":
            self.reward += reward_of(assignment, reward)
        return self._within(sum(self.assignments.values()), scan_limit)

    def _within(self, counted: int, scan_limit: int) -> bool:
        if counted < scan_limit:
            return True
        self.complete = False
        return False

    def spend(self, fee_rate: float = DEFAULT_FEE_RATE) -> Spend:
        """What the accepted assignments cost: their reward plus the platform fee at ``fee_rate``."""
        return Spend(self.assignments.get("ACCEPTED", 0), self.reward, fee_rate, self.complete)

    def describe(self, fee_rate: float = DEFAULT_FEE_RATE) -> str:
        """One log line: tasks, submitted, accepted, rejected, active, and what was spent."""
        more = "" if self.complete else "+"
        counts = self.assignments
        return (
            f"{self.tasks}{more} tasks, assignments: {counts.get('SUBMITTED', 0)}{more} submitted, "
            f"{counts.get('ACCEPTED', 0)}{more} accepted, {counts.get('REJECTED', 0)}{more} rejected, "
            f"{counts.get('ACTIVE', 0)}{more} active; {self.spend(fee_rate).describe()}"
        )

    def as_dict(self, fee_rate: float = DEFAULT_FEE_RATE) -> dict[str, Any]:
        """A small JSON-ready summary (for XCom and trigger events); ``spent`` is :meth:`Spend.as_dict`."""
        return {
            "tasks": self.tasks,
            "assignments": {k: v for k, v in self.assignments.items() if v},
            "spent": self.spend(fee_rate).as_dict(),
            "complete": self.complete,
        }


@dataclass
class PoolState:
    """What one poll of a pool read.

    :param pool_id: the pool.
    :param status: OPEN, CLOSED, ARCHIVED or LOCKED.
    :param last_close_reason: why it was last closed (None if never).
    :param has_active: whether some assignment is still ACTIVE (being done by a toloker).
    :param progress: the counts, when they were read.
    """

    pool_id: str
    status: str | None
    last_close_reason: str | None
    has_active: bool
    progress: PoolProgress | None = None

    def summary(self, fee_rate: float = DEFAULT_FEE_RATE) -> dict[str, Any]:
        """The pool's summary: id, status, close reason, the counts and what was spent (fee at ``fee_rate``)."""
        result: dict[str, Any] = {
            "pool_id": self.pool_id,
            "status": self.status,
            "last_close_reason": self.last_close_reason,
        }
        if self.progress is not None:
            result.update(self.progress.as_dict(fee_rate))
        return result

    def describe(self, fee_rate: float = DEFAULT_FEE_RATE) -> str:
        """One log line for this poll (what was spent with the fee at ``fee_rate``)."""
        reason = f" ({self.last_close_reason})" if self.status != "OPEN" and self.last_close_reason else ""
        line = f"Pool {self.pool_id} is {self.status}{reason}"
        if self.progress is not None:
            line += f": {self.progress.describe(fee_rate)}"
        return line


def judge_pool(state: PoolState, done_reasons: tuple[str, ...] = ("COMPLETED",)) -> tuple[Verdict, str]:
    """Whether a wait for the pool goes on, is done or failed, and why.

    Done: closed (or archived) for one of ``done_reasons`` with no assignment still ACTIVE.
    Failed: closed for NOT_ENOUGH_BALANCE, BLOCKED, ASSIGNMENTS_LIMIT_EXCEEDED, or for EXPIRED or
    MANUAL when these are not in ``done_reasons``. Otherwise (open, never opened, closed for an
    update) pending.
    """
    if state.status == "OPEN":
        return "pending", "the pool is open"
    reason = state.last_close_reason
    if reason is None:
        return "pending", "the pool has not been opened yet"
    if reason == "FOR_UPDATE":
        return "pending", "the pool is closed for an update"
    if reason in done_reasons:
        if state.has_active:
            return "pending", f"the pool closed ({reason}) but some assignments are still ACTIVE"
        return "done", f"the pool closed ({reason}) and every assignment is finished"
    hint = CLOSE_REASON_HINTS.get(reason, "an unknown close reason")
    return "failed", f"Pool {state.pool_id} was closed with reason {reason}: {hint}"
