"""Assignments: their store, lifecycle (ACTIVE -> SUBMITTED -> ACCEPTED / REJECTED, or EXPIRED) and listing.

The stored dict of an assignment is its API view (``AssignmentViewV1``): ``id, task_suite_id,
pool_id, user_id, status, reward, tasks, solutions, mixed, automerged, created, submitted,
accepted, rejected, expired, public_comment, owner``. Review as in the reference: SUBMITTED ->
ACCEPTED or REJECTED, REJECTED -> ACCEPTED (a changed decision); anything else is 409
INAPPROPRIATE_STATUS. Accepting charges the reward plus the fee (``Billing``); a pool without
``auto_accept_solutions`` accepts what is still SUBMITTED ``auto_accept_period_day`` days after
submission (a day lasts ``auto_accept_day_seconds``).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from airflow_provider_toloka.testing.billing import Billing
from airflow_provider_toloka.testing.errors import ApiError, does_not_exist, field_error, validation_error
from airflow_provider_toloka.testing.paging import parse_limit
from airflow_provider_toloka.testing.timefmt import iso_utc, parse_time
from airflow_provider_toloka.testing.timeline import Timeline

STATUSES = ("ACCEPTED", "ACTIVE", "EXPIRED", "REJECTED", "SKIPPED", "SUBMITTED")
#: Statuses that give the task's overlap back.
RETURNED_STATUSES = frozenset({"EXPIRED", "SKIPPED"})
#: Statuses a requester may set, and the statuses each may be set from.
REVIEW_FROM = {"ACCEPTED": ("SUBMITTED", "REJECTED"), "REJECTED": ("SUBMITTED",)}
TIME_FIELDS = ("created", "submitted", "accepted", "rejected", "skipped", "expired")
SORT_FIELDS = ("id", *TIME_FIELDS)
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100_000
MAX_PUBLIC_COMMENT = 2048
#: ``auto_accept_period_day`` when a pool without auto acceptance does not set it.
DEFAULT_AUTO_ACCEPT_DAYS = 7


def assignment_id(number: int) -> str:
    """The id of the ``number``-th assignment, shaped as the API's (``00022cfa46--637cf4...``), sorting as created."""
    return f"{number:010x}--a{number:023x}"


def task_suite_id(number: int) -> str:
    """The id of the ``number``-th task suite."""
    return f"{number:010x}--5{number:023x}"


class _Ordered:
    """Assignments in id (= creation) order, with their ids for bisection."""

    __slots__ = ("ids", "items")

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.items: list[dict[str, Any]] = []

    def append(self, assignment: dict[str, Any]) -> None:
        self.ids.append(assignment["id"])
        self.items.append(assignment)


def _param_error(name: str, message: str, code: str = "VALUE_NOT_ALLOWED") -> ApiError:
    return validation_error({name: field_error(code, message)})


def _time_bound(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return iso_utc(parse_time(value))
    except ValueError:
        raise _param_error(name, "Expected an ISO 8601 date-time YYYY-MM-DDThh:mm:ss[.sss]", "INVALID_VALUE") from None


def _in_range(value: str | None, bounds: Mapping[str, str]) -> bool:
    if value is None:
        return False
    return not (
        ("gt" in bounds and value <= bounds["gt"])
        or ("gte" in bounds and value < bounds["gte"])
        or ("lt" in bounds and value >= bounds["lt"])
        or ("lte" in bounds and value > bounds["lte"])
    )


@dataclass(frozen=True)
class AssignmentQuery:
    """The filters, sort and limit of ``GET /assignments``."""

    pool_id: str | None = None
    task_id: str | None = None
    task_suite_id: str | None = None
    user_id: str | None = None
    statuses: frozenset[str] | None = None
    sort: tuple[tuple[str, bool], ...] = (("id", False),)
    ranges: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AssignmentQuery:
        """Read the query parameters (400 VALIDATION_ERROR on a bad one).

        ``status`` is a comma-separated list; ``sort`` a comma-separated list of fields (``-`` for
        descending) among ``id`` and the dates; ranges ``<id|date field>_<gt|gte|lt|lte>``; one of
        ``pool_id``, ``task_id``, ``task_suite_id`` is required.
        """
        if not any(params.get(name) for name in ("pool_id", "task_id", "task_suite_id")):
            raise _param_error("pool_id", "Specify pool_id, task_id or task_suite_id", "VALUE_REQUIRED")
        statuses = None
        if params.get("status"):
            statuses = frozenset(part.strip() for part in params["status"].split(",") if part.strip())
            unknown = sorted(statuses - set(STATUSES))
            if unknown:
                raise _param_error("status", f"Unknown status {', '.join(unknown)}; use {', '.join(STATUSES)}")
        sort = []
        for part in (params.get("sort") or "id").split(","):
            name = part.strip()
            if name.lstrip("-") not in SORT_FIELDS:
                raise _param_error("sort", f"sort fields are {', '.join(SORT_FIELDS)} (prefix - for descending)")
            sort.append((name.lstrip("-"), name.startswith("-")))
        ranges: dict[str, dict[str, str]] = {}
        for name in SORT_FIELDS:
            for operator in RANGE_OPERATORS:
                key = f"{name}_{operator}"
                value = params.get(key) if name == "id" else _time_bound(params, key)
                if value is not None:
                    ranges.setdefault(name, {})[operator] = value
        limit = parse_limit(params, DEFAULT_LIMIT, MAX_LIMIT)
        return cls(
            pool_id=params.get("pool_id"),
            task_id=params.get("task_id"),
            task_suite_id=params.get("task_suite_id"),
            user_id=params.get("user_id"),
            statuses=statuses,
            sort=tuple(sort),
            ranges=ranges,
            limit=limit,
        )

    def matches(self, assignment: Mapping[str, Any]) -> bool:
        """Whether the assignment passes every filter except ``task_id``/``task_suite_id`` (used as indexes)."""
        if self.pool_id is not None and assignment["pool_id"] != self.pool_id:
            return False
        if self.user_id is not None and assignment["user_id"] != self.user_id:
            return False
        if self.statuses is not None and assignment["status"] not in self.statuses:
            return False
        return all(_in_range(assignment.get(name), bounds) for name, bounds in self.ranges.items())


class AssignmentBook:
    """Every assignment of the emulator, indexed by pool, task and task suite.

    :param assignments: the id -> assignment dict to fill (``EmulatorState.assignments``).
    :param owner: the ``owner`` object of every assignment (the requester).
    :param billing: charged when an assignment is accepted.
    :param timeline: where automatic acceptance is scheduled.
    :param day_seconds: how long a day of ``auto_accept_period_day`` lasts, in seconds.
    """

    def __init__(
        self,
        assignments: dict[str, dict[str, Any]],
        owner: Mapping[str, Any],
        billing: Billing,
        timeline: Timeline,
        day_seconds: float,
    ) -> None:
        self.assignments = assignments
        self.owner = dict(owner)
        self.billing = billing
        self.timeline = timeline
        self.day_seconds = day_seconds
        self._numbers = itertools.count(1)
        self._by_pool: dict[str, _Ordered] = {}
        self._by_task: dict[str, _Ordered] = {}
        self._by_suite: dict[str, _Ordered] = {}
        self._status_counts: dict[str, Counter[str]] = {}
        #: Called with (pool_id, when) after an assignment of the pool stops being ACTIVE.
        self.on_settled: Callable[[str, float], None] | None = None

    # -- reading --------------------------------------------------------------------------

    def of_pool(self, pool_id: str) -> list[dict[str, Any]]:
        """The pool's assignments in creation order (the stored dicts: do not modify)."""
        ordered = self._by_pool.get(pool_id)
        return list(ordered.items) if ordered else []

    def of_task(self, task_id: str) -> list[dict[str, Any]]:
        """The assignments that hold the task, in creation order."""
        ordered = self._by_task.get(task_id)
        return list(ordered.items) if ordered else []

    def status_counts(self, pool_id: str) -> Counter[str]:
        """Assignments of the pool per status."""
        return Counter(self._status_counts.get(pool_id, ()))

    def taken(self, task_id: str) -> int:
        """How many assignments use up a unit of the task's overlap (all but EXPIRED and SKIPPED)."""
        ordered = self._by_task.get(task_id)
        if not ordered:
            return 0
        return sum(1 for item in ordered.items if item["status"] not in RETURNED_STATUSES)

    def get(self, identifier: str) -> dict[str, Any]:
        """GET /assignments/{id} (404 DOES_NOT_EXIST when unknown)."""
        found = self.assignments.get(identifier)
        if found is None:
            raise does_not_exist("Assignment", identifier)
        return found

    def page(self, query: AssignmentQuery) -> tuple[list[dict[str, Any]], bool]:
        """One page of GET /assignments."""
        if query.task_suite_id is not None:
            base = self._by_suite.get(query.task_suite_id)
        elif query.task_id is not None:
            base = self._by_task.get(query.task_id)
        else:
            base = self._by_pool.get(query.pool_id or "")
        if base is None:
            return [], False
        extra = query.task_id if query.task_suite_id is not None else None
        selected = (item for item in self._in_id_range(base, query) if query.matches(item))
        if extra is not None:
            selected = (item for item in selected if any(task.get("id") == extra for task in item["tasks"]))
        if query.sort in ((("id", False),), (("id", True),)):
            page = list(itertools.islice(selected, query.limit + 1))
        else:
            page = _sorted(list(selected), query.sort)
        return page[: query.limit], len(page) > query.limit

    @staticmethod
    def _in_id_range(base: _Ordered, query: AssignmentQuery) -> Iterator[dict[str, Any]]:
        bounds = query.ranges.get("id", {})
        low, high = 0, len(base.ids)
        if "gt" in bounds:
            low = max(low, bisect_right(base.ids, bounds["gt"]))
        if "gte" in bounds:
            low = max(low, bisect_left(base.ids, bounds["gte"]))
        if "lt" in bounds:
            high = min(high, bisect_left(base.ids, bounds["lt"]))
        if "lte" in bounds:
            high = min(high, bisect_right(base.ids, bounds["lte"]))
        positions: Iterable[int] = range(low, high)
        if query.sort and query.sort[0] == ("id", True):
            positions = reversed(range(low, high))
        return (base.items[position] for position in positions)

    # -- changes --------------------------------------------------------------------------

    def create(
        self,
        pool: Mapping[str, Any],
        tasks: list[dict[str, Any]],
        user_id: str,
        when: float,
        *,
        status: str = "ACTIVE",
        solutions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a new assignment of ``tasks`` (the stored task dicts) to ``user_id``.

        :param status: its status; SUBMITTED, ACCEPTED and REJECTED ones get their dates, and an
            ACCEPTED one is charged.
        """
        if status not in STATUSES:
            raise ValueError(f"Unknown assignment status {status!r}")
        number = next(self._numbers)
        stamp = iso_utc(when)
        assignment: dict[str, Any] = {
            "id": assignment_id(number),
            "task_suite_id": task_suite_id(number),
            "pool_id": str(pool["id"]),
            "user_id": user_id,
            "status": status,
            "reward": float(pool.get("reward_per_assignment", 0.0)),
            "tasks": tasks,
            "solutions": solutions or [],
            "mixed": True,
            "automerged": False,
            "created": stamp,
            "owner": self.owner,
        }
        if status in ("SUBMITTED", "ACCEPTED", "REJECTED"):
            assignment["submitted"] = stamp
        if status in ("ACCEPTED", "REJECTED", "EXPIRED", "SKIPPED"):
            assignment[status.lower()] = stamp
        self.assignments[assignment["id"]] = assignment
        self._by_pool.setdefault(assignment["pool_id"], _Ordered()).append(assignment)
        self._by_suite.setdefault(assignment["task_suite_id"], _Ordered()).append(assignment)
        for task in tasks:
            self._by_task.setdefault(task["id"], _Ordered()).append(assignment)
        self._refresh_remaining(tasks)
        self._status_counts.setdefault(assignment["pool_id"], Counter())[status] += 1
        if status == "ACTIVE":
            self.billing.reserve(assignment["id"], assignment["reward"])
        elif status == "ACCEPTED":
            self.billing.charge(assignment["id"], assignment["reward"])
        return assignment

    def _refresh_remaining(self, tasks: Iterable[dict[str, Any]]) -> None:
        """Keep the ``remaining_overlap`` of the tasks' views in step with their assignments."""
        for task in tasks:
            if "remaining_overlap" in task and not task.get("infinite_overlap") and task.get("overlap") is not None:
                task["remaining_overlap"] = max(0, int(task["overlap"]) - self.taken(task["id"]))

    def _set_status(self, assignment: dict[str, Any], status: str, when: float) -> None:
        counts = self._status_counts[assignment["pool_id"]]
        was_active = assignment["status"] == "ACTIVE"
        counts[assignment["status"]] -= 1
        counts[status] += 1
        assignment["status"] = status
        assignment[status.lower()] = iso_utc(when)
        if status in RETURNED_STATUSES:
            self._refresh_remaining(assignment["tasks"])
        if was_active and self.on_settled is not None:
            self.on_settled(assignment["pool_id"], when)

    def submit(
        self, assignment: dict[str, Any], solutions: list[dict[str, Any]], pool: Mapping[str, Any], when: float
    ) -> None:
        """The toloker submits: SUBMITTED, then ACCEPTED (charged) when the pool accepts by itself.

        With ``auto_accept_solutions`` false, the assignment is accepted after the pool's review
        period (``auto_accept_period_day``) unless the requester decided before.
        """
        assignment["solutions"] = solutions
        self._set_status(assignment, "SUBMITTED", when)
        if pool.get("auto_accept_solutions", True):
            self._accept(assignment, when)
            return
        days = pool.get("auto_accept_period_day") or DEFAULT_AUTO_ACCEPT_DAYS

        def accept_if_still_submitted(moment: float) -> None:
            if assignment["status"] == "SUBMITTED":
                self._accept(assignment, moment)

        self.timeline.schedule(when + float(days) * self.day_seconds, accept_if_still_submitted)

    def expire(self, assignment: dict[str, Any], when: float) -> None:
        """The toloker ran out of time: EXPIRED, the overlap goes back, nothing is charged."""
        self.billing.release(assignment["id"])
        self._set_status(assignment, "EXPIRED", when)

    def _accept(self, assignment: dict[str, Any], when: float) -> None:
        self._set_status(assignment, "ACCEPTED", when)
        self.billing.charge(assignment["id"], assignment["reward"])

    def review(self, identifier: str, body: Any, now: float) -> dict[str, Any]:
        """PATCH /assignments/{id}: ``{"status": "ACCEPTED" | "REJECTED", "public_comment": ...}``.

        :raises ApiError: 404 for an unknown assignment; 400 for a bad body (a rejection needs a
            ``public_comment``, at most 2048 characters); 409 INAPPROPRIATE_STATUS when the
            assignment's status does not allow the change (already reviewed, still ACTIVE, ...).
        """
        assignment = self.get(identifier)
        if not isinstance(body, dict):
            raise validation_error({"body": field_error("OBJECT_EXPECTED", "Send a JSON object")})
        status = body.get("status")
        comment = body.get("public_comment")
        if status not in REVIEW_FROM:
            raise _param_error("status", "status must be ACCEPTED or REJECTED")
        if comment is not None and not isinstance(comment, str):
            raise _param_error("public_comment", "public_comment must be a string", "STRING_EXPECTED")
        if comment is not None and len(comment) > MAX_PUBLIC_COMMENT:
            raise _param_error(
                "public_comment", f"At most {MAX_PUBLIC_COMMENT} characters", "STRING_LENGTH_GREATER_THAN_MAX"
            )
        if status == "REJECTED" and not comment:
            raise _param_error("public_comment", "A rejection needs a public_comment", "VALUE_REQUIRED")
        if assignment["status"] not in REVIEW_FROM[status]:
            raise ApiError(
                409,
                "INAPPROPRIATE_STATUS",
                f"Assignment {identifier} is {assignment['status']}; it can become {status} only from "
                f"{' or '.join(REVIEW_FROM[status])}",
                {"appropriate_statuses": list(REVIEW_FROM[status])},
            )
        if comment is not None:
            assignment["public_comment"] = comment
        if status == "ACCEPTED":
            self._accept(assignment, now)
        else:
            self.billing.release(assignment["id"])
            self._set_status(assignment, "REJECTED", now)
        return assignment


def _sorted(items: list[dict[str, Any]], sort: tuple[tuple[str, bool], ...]) -> list[dict[str, Any]]:
    """Sort by several fields (stable sorts from the last key); missing dates sort after present ones."""
    for name, descending in reversed(sort):
        present = [item for item in items if item.get(name) is not None]
        missing = [item for item in items if item.get(name) is None]
        present.sort(key=itemgetter(name), reverse=descending)
        items = present + missing
    return items
