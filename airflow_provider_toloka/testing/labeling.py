"""The results side of the emulator, held together for one state.

Assignments, the balance, pools closing by themselves, the simulated crowd, the hidden ground
truth and server-side aggregation.

``EmulatorState`` owns one ``Labeling`` (``state.labeling``) and calls :meth:`Labeling.advance`
whenever it settles the clock, so everything here happens in simulated time, in order, under the
state's lock.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.testing.aggregation import Aggregations
from airflow_provider_toloka.testing.answers import GroundTruth, known_answer
from airflow_provider_toloka.testing.assignments import AssignmentBook, AssignmentQuery
from airflow_provider_toloka.testing.billing import Billing
from airflow_provider_toloka.testing.closing import PoolCloser
from airflow_provider_toloka.testing.crowd import Crowd, CrowdSettings
from airflow_provider_toloka.testing.errors import does_not_exist
from airflow_provider_toloka.testing.paging import ListQuery
from airflow_provider_toloka.testing.timeline import Timeline

if TYPE_CHECKING:
    from airflow_provider_toloka.testing.state import EmulatorState

#: Tasks read per page when listing a pool's ground truth.
_TRUTH_PAGE = 100_000


class Labeling:
    """Assignments, balance, self-closing pools, crowd, ground truth and aggregation of one emulator.

    :param state: the emulator's store (its config gives the crowd, balance and time options).
    """

    def __init__(self, state: EmulatorState) -> None:
        config = state.config
        self.state = state
        self.seed = config.seed if config.seed is not None else random.randrange(2**32)
        self.timeline = Timeline()
        self.billing = Billing(state.requester, config.balance, config.fee_rate)
        owner = {"id": state.requester["id"], "myself": True}
        self.book = AssignmentBook(
            state.assignments, owner, self.billing, self.timeline, config.auto_accept_day_seconds
        )
        self.closer = PoolCloser(state.pools, state.tasks, self.book, self.timeline, self.open_overlap)
        self.book.on_settled = self.closer.check_complete
        self.truth = GroundTruth(self.seed, state.projects, state.pools)
        self.aggregations = Aggregations(state, self.book)
        self.crowd: Crowd | None = None
        if config.simulate_tolokers:
            settings = CrowdSettings(config.toloker_count, config.toloker_accuracy, config.toloker_speed, self.seed)
            self.crowd = Crowd(
                settings,
                pools=state.pools,
                tasks=state.tasks,
                book=self.book,
                billing=self.billing,
                closer=self.closer,
                truth=self.truth,
                timeline=self.timeline,
                remaining=self.open_overlap,
            )

    def advance(self, until: float) -> None:
        """Run everything that happens by ``until`` (called by the state with its lock held)."""
        self.closer.watch()
        if self.crowd is not None:
            self.crowd.notice()
        self.timeline.run_until(until)

    def open_overlap(self, task: Mapping[str, Any], pool: Mapping[str, Any]) -> float:
        """Answers the task still needs: infinite for control tasks and tasks with infinite overlap."""
        if task.get("infinite_overlap") or known_answer(task) is not None:
            return float("inf")
        overlap = task.get("overlap") or (pool.get("defaults") or {}).get("default_overlap_for_new_task_suites") or 1
        return int(overlap) - self.book.taken(task["id"])

    def ground_truth(self, pool_id: str) -> dict[str, dict[str, Any]]:
        """``{task_id: output_values}`` of every task of the pool (404 for an unknown pool)."""
        with self.state.lock:
            self.state.settle()
            if pool_id not in self.state.pools:
                raise does_not_exist("Pool", pool_id)
            truths: dict[str, dict[str, Any]] = {}
            last: str | None = None
            while True:
                page, has_more = self.state.tasks.page(ListQuery(id_gt=last, limit=_TRUTH_PAGE), pool_id)
                truths.update((task["id"], self.truth.of(task)) for task in page)
                if not has_more or not page:
                    return truths
                last = page[-1]["id"]

    # -- assignments over the API ---------------------------------------------------------

    def add_assignment(
        self,
        pool_id: str,
        tasks: list[dict[str, Any]],
        solutions: list[dict[str, Any]] | None = None,
        status: str = "SUBMITTED",
        user_id: str = "emulated-toloker",
    ) -> dict[str, Any]:
        """Seed one assignment (tests and demos; not part of the API). ``tasks`` may be API copies.

        :param pool_id: its pool (404 when unknown).
        :param tasks: the tasks it holds; the stored tasks with the same ids are used when they exist.
        :param solutions: ``{"output_values": {...}}`` per task, same order.
        :param status: ACTIVE, SUBMITTED, ACCEPTED, REJECTED, SKIPPED or EXPIRED (ACCEPTED is charged).
        :param user_id: the toloker's id.
        """
        with self.state._transaction() as now:
            pool = self.state.pools.get(pool_id)
            if pool is None:
                raise does_not_exist("Pool", pool_id)
            stored = [self.state.tasks.get(task.get("id", "")) or task for task in tasks]
            assignment = self.book.create(pool, stored, user_id, now, status=status, solutions=solutions)
            if status != "ACTIVE":
                self.closer.check_complete(pool_id, now)
            return assignment

    def list_assignments(self, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], bool]:
        """GET /assignments."""
        query = AssignmentQuery.from_params(params)
        with self.state._transaction():
            return self.book.page(query)

    def get_assignment(self, assignment_id: str) -> dict[str, Any]:
        """GET /assignments/{id}."""
        with self.state._transaction():
            return self.book.get(assignment_id)

    def review_assignment(self, assignment_id: str, body: Any) -> dict[str, Any]:
        """PATCH /assignments/{id}: accept or reject."""
        with self.state._transaction() as now:
            return self.book.review(assignment_id, body, now)

    def requester(self) -> dict[str, Any]:
        """GET /requester with the balance as of now."""
        with self.state._transaction():
            return dict(self.state.requester)
