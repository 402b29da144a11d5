"""Pools that close by themselves: EXPIRED, COMPLETED, NOT_ENOUGH_BALANCE.

EXPIRED at ``will_expire``; COMPLETED once every task has its answers; NOT_ENOUGH_BALANCE when
the next task suite no longer fits in the balance (decided by the crowd, ``crowd.py``).

A pool is complete when no assignment of it is ACTIVE and every task with a finite overlap has as
many assignments as its overlap (EXPIRED and SKIPPED ones do not count); it then closes
``auto_close_after_complete_delay_seconds`` later unless new work arrived meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from airflow_provider_toloka.testing.assignments import AssignmentBook
from airflow_provider_toloka.testing.paging import ListQuery
from airflow_provider_toloka.testing.tasks import TaskStore
from airflow_provider_toloka.testing.timefmt import iso_utc, parse_time
from airflow_provider_toloka.testing.timeline import Timeline

#: Pages of tasks read at once when checking a pool for completion.
_TASK_PAGE = 10_000


class PoolCloser:
    """Closes the emulator's OPEN pools when their time, work or money runs out.

    :param pools: the emulator's pools by id.
    :param tasks: its tasks.
    :param book: its assignments.
    :param timeline: where expiry and completion checks are scheduled.
    :param remaining: the remaining overlap of a task in its pool (infinite for infinite overlap).
    """

    def __init__(
        self,
        pools: Mapping[str, dict[str, Any]],
        tasks: TaskStore,
        book: AssignmentBook,
        timeline: Timeline,
        remaining: Callable[[dict[str, Any], Mapping[str, Any]], float],
    ) -> None:
        self.pools = pools
        self.tasks = tasks
        self.book = book
        self.timeline = timeline
        self.remaining = remaining
        self._watched: dict[str, str | None] = {}

    def watch(self) -> None:
        """Schedule the expiry and a completion check of each pool opened since the last call."""
        for pool_id, pool in self.pools.items():
            if pool.get("status") != "OPEN":
                self._watched.pop(pool_id, None)
                continue
            started = pool.get("last_started")
            if pool_id in self._watched and self._watched[pool_id] == started:
                continue
            self._watched[pool_id] = started
            opened = parse_time(started) if started else 0.0
            self._schedule_expiry(pool_id, opened)
            self.timeline.schedule(opened, partial(self.check_complete, pool_id))

    def _schedule_expiry(self, pool_id: str, not_before: float) -> None:
        will_expire = self.pools[pool_id].get("will_expire")
        if not will_expire:
            return
        try:
            when = max(parse_time(will_expire), not_before)
        except ValueError:
            return
        self.timeline.schedule(when, partial(self.expire_if_due, pool_id))

    def expire_if_due(self, pool_id: str, when: float) -> bool:
        """Close the pool as EXPIRED when its ``will_expire`` has come; whether it is closed now."""
        pool = self.pools[pool_id]
        if pool.get("status") != "OPEN":
            return True
        will_expire = pool.get("will_expire")
        try:
            due = parse_time(will_expire) if will_expire else None
        except ValueError:
            due = None
        if due is None or due > when:
            return False
        self.close(pool, "EXPIRED", max(due, _started(pool)))
        return True

    @staticmethod
    def close(pool: dict[str, Any], reason: str, when: float) -> None:
        """Close an OPEN pool with ``last_close_reason`` = ``reason`` at ``when``."""
        if pool.get("status") == "OPEN":
            pool.update(status="CLOSED", last_close_reason=reason, last_stopped=iso_utc(when))

    def is_complete(self, pool: Mapping[str, Any]) -> bool:
        """No ACTIVE assignment and no task of the pool still waiting for an answer."""
        pool_id = str(pool["id"])
        if self.book.status_counts(pool_id).get("ACTIVE", 0) or self.tasks.count(pool_id) == 0:
            return False
        last: str | None = None
        while True:
            page, has_more = self.tasks.page(ListQuery(id_gt=last, limit=_TASK_PAGE), pool_id)
            if any(0 < self.remaining(task, pool) < float("inf") for task in page):
                return False
            if not has_more or not page:
                return True
            last = page[-1]["id"]

    def check_complete(self, pool_id: str, when: float) -> None:
        """When the pool is complete, close it as COMPLETED after its ``auto_close_after_complete_delay_seconds``."""
        pool = self.pools.get(pool_id)
        if pool is None or pool.get("status") != "OPEN" or not self.is_complete(pool):
            return
        delay = float(pool.get("auto_close_after_complete_delay_seconds") or 0)
        if delay <= 0:
            self.close(pool, "COMPLETED", when)
            return

        def close_if_still_complete(moment: float) -> None:
            if pool.get("status") == "OPEN" and self.is_complete(pool):
                self.close(pool, "COMPLETED", moment)

        self.timeline.schedule(when + delay, close_if_still_complete)


def _started(pool: Mapping[str, Any]) -> float:
    started = pool.get("last_started")
    return parse_time(started) if started else 0.0
