"""A pool's results: its state and progress, its assignments (streamed), reviews, and aggregated answers.

:class:`PoolResultsMixin` is the results part of :class:`~airflow_provider_toloka.client.client.TolokaClient`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.client.errors import TolokaConflictError, TolokaValidationError
from airflow_provider_toloka.client.models import Operation
from airflow_provider_toloka.client.pools import ASSIGNMENT_STATUSES, DEFAULT_SCAN_LIMIT, PoolProgress, PoolState

if TYPE_CHECKING:
    from airflow_provider_toloka.client.http import HttpTransport
    from airflow_provider_toloka.client.logger import LoggerLike
    from airflow_provider_toloka.client.models import Pool

#: Assignments read per request (the API allows up to 100,000).
ASSIGNMENT_PAGE_SIZE = 10_000

#: Server-side aggregation methods of ``POST /aggregated-solutions/aggregate-by-pool``.
SERVER_AGGREGATION_METHODS = ("DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP")


def status_filter(status: str | Iterable[str] | None) -> str | None:
    """Assignment statuses as the API's comma-separated ``status`` filter (None: any status).

    :raises TolokaValidationError: naming an unknown status.
    """
    if status is None:
        return None
    items = status.split(",") if isinstance(status, str) else list(status)
    chosen = list(dict.fromkeys(str(item).strip().upper() for item in items if str(item).strip()))
    wrong = [item for item in chosen if item not in ASSIGNMENT_STATUSES]
    if wrong:
        raise TolokaValidationError(
            f"Unknown assignment status {wrong!r}: use some of {', '.join(ASSIGNMENT_STATUSES)}"
        )
    return ",".join(chosen) or None


@dataclass(frozen=True)
class Review:
    """What reviewing one assignment did.

    :param assignment_id: the assignment.
    :param status: its status afterwards (ACCEPTED or REJECTED).
    :param changed: False when it had been reviewed already (by an earlier try, or by hand).
    """

    assignment_id: str
    status: str
    changed: bool


class PoolResultsMixin:
    """Pool state, assignments, reviews and aggregation; mixed into :class:`TolokaClient`."""

    if TYPE_CHECKING:  # what the mixin uses of TolokaClient
        http: HttpTransport
        log: LoggerLike

        def get_pool(self, pool_id: str) -> Pool: ...
        def _iter_list(
            self, path: str, params: dict[str, Any], page_size: int, newest_first: bool = ..., cursor: str = ...
        ) -> Iterator[dict[str, Any]]: ...

    # --- assignments ---------------------------------------------------------------------

    def iter_assignments(
        self,
        pool_id: str,
        status: str | Iterable[str] | None = None,
        page_size: int = ASSIGNMENT_PAGE_SIZE,
        after_id: str | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """The assignments of a pool, streamed page by page in id order (constant memory).

        :param status: one status, a comma-separated list or a list (e.g. ``["SUBMITTED", "ACCEPTED"]``).
        :param after_id: start after this assignment id (resume a read that stopped).
        :param filters: more documented filters, e.g. ``submitted_gte="2026-11-20T00:00:00"``, ``user_id=...``.
        """
        params = {"pool_id": pool_id, **filters}
        statuses = status_filter(status)
        if statuses:
            params["status"] = statuses
        if after_id is not None:
            params["id_gt"] = after_id
        return self._iter_list("/assignments", params, page_size)

    def get_assignment(self, assignment_id: str) -> dict[str, Any]:
        """Read one assignment."""
        return self.http.request("GET", f"/assignments/{assignment_id}")

    def has_active_assignments(self, pool_id: str) -> bool:
        """Whether a toloker is still doing some task suite of the pool (one small request)."""
        page = self.http.request("GET", "/assignments", params={"pool_id": pool_id, "status": "ACTIVE", "limit": 1})
        return bool(page.get("items"))

    def review_assignment(self, assignment_id: str, accept: bool, public_comment: str | None = None) -> Review:
        """Accept or reject a SUBMITTED assignment; one reviewed already counts as done.

        Safe to repeat: when an earlier try (or a person) has reviewed it, the API answers 409 and
        the assignment is read back instead, whatever its verdict was.

        :param public_comment: shown to the toloker (required by Toloka for a rejection).
        """
        body: dict[str, Any] = {"status": "ACCEPTED" if accept else "REJECTED"}
        if public_comment:
            body["public_comment"] = public_comment[:2048]
        try:
            answer = self.http.request("PATCH", f"/assignments/{assignment_id}", json_body=body, idempotent=True)
        except TolokaConflictError:
            current = self.get_assignment(assignment_id)
            if current.get("status") not in ("ACCEPTED", "REJECTED"):
                raise
            return Review(assignment_id, str(current["status"]), changed=False)
        return Review(assignment_id, str((answer or {}).get("status", body["status"])), changed=True)

    def accept_assignment(self, assignment_id: str, public_comment: str | None = None) -> Review:
        """Accept an assignment (see :meth:`review_assignment`)."""
        return self.review_assignment(assignment_id, True, public_comment)

    def reject_assignment(self, assignment_id: str, public_comment: str) -> Review:
        """Reject an assignment with a comment for the toloker (see :meth:`review_assignment`)."""
        return self.review_assignment(assignment_id, False, public_comment)

    # --- pool state ----------------------------------------------------------------------

    def pool_progress(
        self, pool_id: str, scan_limit: int = DEFAULT_SCAN_LIMIT, reward: float | None = None
    ) -> PoolProgress:
        """Count the pool's tasks and its assignments by status, and what the accepted ones cost.

        Streams up to ``scan_limit`` tasks and as many assignments; beyond that the counts are lower
        bounds (``complete`` is False). Accepted assignments that carry no ``reward`` are counted at
        the pool's ``reward_per_assignment`` (or ``reward`` when given).
        """
        if reward is None:
            reward = self.get_pool(pool_id).reward_per_assignment
        progress = PoolProgress()
        for _task in self._iter_list("/tasks", {"pool_id": pool_id}, 10_000):
            if not progress.add_task(scan_limit):
                break
        for assignment in self.iter_assignments(pool_id):
            if not progress.add_assignment(assignment, reward, scan_limit):
                break
        return progress

    def read_pool_state(self, pool_id: str, scan_limit: int = DEFAULT_SCAN_LIMIT) -> PoolState:
        """Read what a wait for the pool needs: status, close reason, ACTIVE assignments, counts.

        :param scan_limit: see :meth:`pool_progress`; 0 reads no counts.
        """
        pool = self.get_pool(pool_id)
        progress = self.pool_progress(pool_id, scan_limit, pool.reward_per_assignment) if scan_limit else None
        return PoolState(pool_id, pool.status, pool.last_close_reason, self.has_active_assignments(pool_id), progress)

    def archive_pool(self, pool_id: str) -> Operation | None:
        """Start archiving a closed pool: the POOL.ARCHIVE operation, or None when already archived."""
        if self.get_pool(pool_id).status == "ARCHIVED":
            return None
        answer = self.http.request("POST", f"/pools/{pool_id}/archive", idempotent=True)
        return Operation.model_validate(answer) if answer else None

    # --- server-side aggregation ---------------------------------------------------------

    def aggregate_by_pool(
        self,
        pool_id: str,
        fields: Sequence[str],
        method: str = "DAWID_SKENE",
        answer_weight_skill_id: str | None = None,
    ) -> Operation:
        """Start Toloka's aggregation of the pool's answers (a SOLUTION.AGGREGATE operation).

        :param fields: the output fields to aggregate (DAWID_SKENE takes exactly one).
        :param method: DAWID_SKENE or WEIGHTED_DYNAMIC_OVERLAP (which needs ``answer_weight_skill_id``).
        :raises TolokaValidationError: a bad method or field list; nothing was sent.
        """
        method = method.upper()
        if method not in SERVER_AGGREGATION_METHODS:
            raise TolokaValidationError(
                f"Unknown server-side aggregation {method!r}: use {' or '.join(SERVER_AGGREGATION_METHODS)}"
            )
        if not fields or (method == "DAWID_SKENE" and len(fields) != 1):
            raise TolokaValidationError(f"{method} aggregates one output field; got fields={list(fields)!r}")
        body: dict[str, Any] = {"type": method, "pool_id": pool_id, "fields": [{"name": name} for name in fields]}
        if method == "WEIGHTED_DYNAMIC_OVERLAP":
            if not answer_weight_skill_id:
                raise TolokaValidationError("WEIGHTED_DYNAMIC_OVERLAP needs answer_weight_skill_id")
            body["answer_weight_skill_id"] = answer_weight_skill_id
        answer = self.http.request("POST", "/aggregated-solutions/aggregate-by-pool", json_body=body)
        return Operation.model_validate(answer)

    def iter_aggregated_solutions(self, operation_id: str, page_size: int = 10_000) -> Iterator[dict[str, Any]]:
        """The results of a SOLUTION.AGGREGATE operation, streamed in task id order."""
        return self._iter_list(f"/aggregated-solutions/{operation_id}", {}, page_size, cursor="task_id")
