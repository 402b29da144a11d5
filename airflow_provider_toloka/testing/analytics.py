"""Pool analytics (``POST /api/staging/analytics-2``): an ANALYTICS operation whose details carry the values.

The request is a list of ``{"subject": "POOL", "subject_id", "name"}`` (``interval_hours`` too for
``active_workers_by_filter_count``); when the operation finishes, ``details.value`` holds one
``{"result": {"type": "NORMAL", "value", "infinite", "approximate"}, "request", "finished"}`` per request,
computed from the emulator's tasks and assignments at that moment.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from airflow_provider_toloka.testing.body_checks import check_int, check_required
from airflow_provider_toloka.testing.errors import field_error, validation_error
from airflow_provider_toloka.testing.operations import Operation
from airflow_provider_toloka.testing.paging import ListQuery
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.timefmt import iso_utc, parse_time

ANALYTICS = "ANALYTICS"
#: Most metrics in one request (toloka-kit's ``get_analytics``: "up to 10 metrics at a time").
MAX_METRICS = 10
SUBMITTED_STATUSES = ("SUBMITTED", "ACCEPTED", "REJECTED")
DONE_STATUSES = ("SUBMITTED", "ACCEPTED")
TASKS_PER_READ = 100_000

Metric = Callable[["PoolFacts", dict[str, Any]], float]


class PoolFacts:
    """What the metrics of one pool are computed from.

    :param pool: the pool.
    :param tasks: its tasks.
    :param assignments: its assignments.
    :param now: POSIX time of the computation.
    """

    def __init__(
        self, pool: dict[str, Any], tasks: list[dict[str, Any]], assignments: list[dict[str, Any]], now: float
    ) -> None:
        self.pool = pool
        self.tasks = tasks
        self.assignments = assignments
        self.now = now

    def count(self, *statuses: str) -> int:
        """Assignments in one of ``statuses``."""
        return sum(1 for assignment in self.assignments if assignment.get("status") in statuses)

    def completion_percentage(self) -> int:
        """Done answers (submitted or accepted) over the answers wanted, capped per task; 0 without tasks."""
        done: dict[str, int] = {}
        for assignment in self.assignments:
            if assignment.get("status") in DONE_STATUSES:
                for task in assignment.get("tasks") or ():
                    done[task.get("id")] = done.get(task.get("id"), 0) + 1
        wanted = got = 0
        for task in self.tasks:
            if task.get("infinite_overlap"):
                continue
            overlap = task.get("overlap") or 1
            wanted += overlap
            got += min(overlap, done.get(task["id"], 0))
        return math.floor(100 * got / wanted) if wanted else 0

    def avg_submit_millis(self) -> int:
        """Mean time from taking an assignment to submitting it, in milliseconds (0 when none)."""
        spans = [
            parse_time(assignment["submitted"]) - parse_time(assignment["created"])
            for assignment in self.assignments
            if assignment.get("submitted") and assignment.get("created")
        ]
        return round(1000 * sum(spans) / len(spans)) if spans else 0

    def spent_budget(self) -> float:
        """Rewards of the accepted assignments (without the fee)."""
        default = self.pool.get("reward_per_assignment") or 0.0
        return round(
            sum(
                assignment.get("reward", default)
                for assignment in self.assignments
                if assignment.get("status") == "ACCEPTED"
            ),
            4,
        )

    def users(self, *statuses: str, since: float | None = None) -> int:
        """Distinct tolokers with an assignment in ``statuses`` (any when empty), taken after ``since``."""
        return len(
            {
                assignment.get("user_id")
                for assignment in self.assignments
                if (not statuses or assignment.get("status") in statuses)
                and (since is None or parse_time(assignment["created"]) >= since)
            }
        )

    def estimated_assignments(self) -> int:
        """Task suites needed for every task's overlap, with the pool's tasks per suite."""
        per_suite = (self.pool.get("mixer_config") or {}).get("real_tasks_count") or 1
        answers = sum(task.get("overlap") or 1 for task in self.tasks if not task.get("infinite_overlap"))
        return math.ceil(answers / per_suite)


METRICS: dict[str, Metric] = {
    "real_tasks_count": lambda facts, _: len(facts.tasks),
    "submitted_assignments_count": lambda facts, _: facts.count("SUBMITTED"),
    "skipped_assignments_count": lambda facts, _: facts.count("SKIPPED"),
    "rejected_assignments_count": lambda facts, _: facts.count("REJECTED"),
    "approved_assignments_count": lambda facts, _: facts.count("ACCEPTED"),
    "completion_percentage": lambda facts, _: facts.completion_percentage(),
    "avg_submit_assignment_millis": lambda facts, _: facts.avg_submit_millis(),
    "spent_budget": lambda facts, _: facts.spent_budget(),
    "unique_workers_count": lambda facts, _: facts.users(),
    "unique_submitters_count": lambda facts, _: facts.users(*SUBMITTED_STATUSES),
    "active_workers_by_filter_count": lambda facts, request: facts.users(
        since=facts.now - 3600 * request["interval_hours"]
    ),
    "estimated_assignments_count": lambda facts, _: facts.estimated_assignments(),
}


class Analytics:
    """Pool analytics of one emulator.

    :param access: the emulator's store.
    """

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    def start(self, body: Any) -> dict[str, Any]:
        """Check the requests and queue the ANALYTICS operation that answers them when it finishes."""
        requests = self._checked(body)
        with self.access.transaction() as now:
            for index, request in enumerate(requests):
                if str(request["subject_id"]) not in self.access.state.pools:
                    raise validation_error(
                        {
                            f"[{index}].subject_id": field_error(
                                "ENTITY_DOES_NOT_EXIST", f"Pool {request['subject_id']} does not exist"
                            )
                        }
                    )

            def compute(operation: Operation) -> None:
                operation.details["value"] = [self._answer(request, operation.due) for request in requests]

            return self.access.submit(ANALYTICS, now, {"value": requests}, compute, details={})

    def _answer(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        pool_id = str(request["subject_id"])
        facts = PoolFacts(self.access.state.pools[pool_id], self._tasks(pool_id), self._assignments(pool_id), now)
        value = METRICS[request["name"]](facts, request)
        return {
            "result": {"type": "NORMAL", "value": value, "infinite": False, "approximate": False},
            "request": request,
            "finished": iso_utc(now),
        }

    def _tasks(self, pool_id: str) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = []
        last: str | None = None
        while True:
            page, has_more = self.access.state.tasks.page(ListQuery(id_gt=last, limit=TASKS_PER_READ), pool_id)
            tasks.extend(page)
            if not has_more or not page:
                return tasks
            last = page[-1]["id"]

    def _assignments(self, pool_id: str) -> list[dict[str, Any]]:
        return [a for a in self.access.state.assignments.values() if str(a.get("pool_id")) == pool_id]

    @staticmethod
    def _checked(body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, list) or not body:
            raise validation_error({"": field_error("ARRAY_EXPECTED", "Send a non-empty array of analytics requests")})
        if len(body) > MAX_METRICS:
            raise validation_error(
                {"": field_error("ARRAY_SIZE_GREATER_THAN_MAX", f"At most {MAX_METRICS} analytics requests at a time")}
            )
        errors: dict[str, dict[str, str]] = {}
        for index, request in enumerate(body):
            if not isinstance(request, dict):
                errors[f"[{index}]"] = field_error("OBJECT_EXPECTED", "An analytics request must be an object")
                continue
            problems: dict[str, dict[str, str]] = {}
            check_required(request, ("subject", "subject_id", "name"), problems)
            if request.get("subject") not in (None, "POOL"):
                problems["subject"] = field_error("UNKNOWN_ENUM_VALUE", "subject must be POOL")
            if request.get("name") is not None and request["name"] not in METRICS:
                problems["name"] = field_error("UNKNOWN_ENUM_VALUE", f"name must be one of {', '.join(METRICS)}")
            if request.get("name") == "active_workers_by_filter_count":
                check_required(request, ("interval_hours",), problems)
                check_int(request, "interval_hours", problems, 1, None)
            errors.update({f"[{index}].{name}": error for name, error in problems.items()})
        if errors:
            raise validation_error(errors)
        return body
