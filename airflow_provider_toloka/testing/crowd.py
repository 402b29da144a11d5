"""Simulated tolokers: they take task suites from OPEN pools, answer them and submit.

Each toloker has its own accuracy (drawn around ``toloker_accuracy``) and speed (around
``toloker_speed`` tasks per second). A free toloker takes a suite from the OPEN pool with the
highest ``priority`` that has work for it: ``mixer_config.real_tasks_count`` general tasks
(``DEFAULT_SUITE_SIZE`` without a mixer config) it has never answered whose overlap is not used up,
plus ``golden_tasks_count`` control tasks (tasks with ``known_solutions``) it has not seen. Tasks
are handed out in creation order with ``mix_tasks_in_creation_order``, in a seeded random order
otherwise. The suite is submitted ``tasks / speed`` seconds later, or EXPIRED (overlap given back)
when that is over the pool's ``assignment_max_duration_seconds``. Everything is driven by the
``Timeline`` with seeded random generators, so the same seed and requests give the same answers.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from airflow_provider_toloka.testing.answers import GroundTruth, known_answer
from airflow_provider_toloka.testing.assignments import AssignmentBook
from airflow_provider_toloka.testing.billing import Billing
from airflow_provider_toloka.testing.closing import PoolCloser
from airflow_provider_toloka.testing.paging import ListQuery
from airflow_provider_toloka.testing.tasks import TaskStore
from airflow_provider_toloka.testing.timefmt import parse_time
from airflow_provider_toloka.testing.timeline import Timeline

#: General tasks per suite in a pool without ``mixer_config``.
DEFAULT_SUITE_SIZE = 10
#: Spread of the tolokers' accuracies around the mean (concentration of a Beta distribution).
ACCURACY_CONCENTRATION = 20.0
#: Spread of the tolokers' speeds around the mean (sigma of a log-normal factor).
SPEED_SIGMA = 0.25


@dataclass
class Toloker:
    """One simulated toloker."""

    user_id: str
    accuracy: float
    speed: float
    rng: random.Random
    answered: set[str] = field(default_factory=set)
    busy: bool = False
    idle_since: float = 0.0
    seen_version: int = -1


@dataclass
class PoolQueue:
    """The tasks of one pool that can be handed out, in the order they are handed out."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    controls: list[dict[str, Any]] = field(default_factory=list)
    returned: list[dict[str, Any]] = field(default_factory=list)
    head: int = 0
    last_task_id: str | None = None
    seen: int = 0


def _own_accuracy(mean: float, rng: random.Random) -> float:
    if mean <= 0.0 or mean >= 1.0:
        return min(1.0, max(0.0, mean))
    return rng.betavariate(mean * ACCURACY_CONCENTRATION, (1.0 - mean) * ACCURACY_CONCENTRATION)


@dataclass(frozen=True)
class CrowdSettings:
    """How many tolokers, how good and how fast.

    :param count: number of tolokers.
    :param accuracy: mean probability that a toloker answers a field right.
    :param speed: mean tasks a toloker answers per second.
    :param seed: seed of every random choice.
    """

    count: int
    accuracy: float
    speed: float
    seed: int


class Crowd:
    """The simulated tolokers of one emulator.

    :param settings: the crowd's size, accuracy, speed and seed.
    :param pools: the emulator's pools by id.
    :param tasks: its tasks.
    :param book: where assignments are stored.
    :param billing: refuses suites the balance cannot pay.
    :param closer: closes pools (expired, out of balance, complete).
    :param truth: the tasks' hidden true answers.
    :param timeline: where the tolokers' steps are scheduled.
    :param remaining: the remaining overlap of a task in its pool.
    """

    def __init__(
        self,
        settings: CrowdSettings,
        *,
        pools: Mapping[str, dict[str, Any]],
        tasks: TaskStore,
        book: AssignmentBook,
        billing: Billing,
        closer: PoolCloser,
        truth: GroundTruth,
        timeline: Timeline,
        remaining: Callable[[dict[str, Any], Mapping[str, Any]], float],
    ) -> None:
        self.settings = settings
        self.pools = pools
        self.tasks = tasks
        self.book = book
        self.billing = billing
        self.closer = closer
        self.truth = truth
        self.timeline = timeline
        self.remaining = remaining
        self.rng = random.Random(f"crowd:{settings.seed}")
        self.tolokers = [self._make_toloker(index) for index in range(settings.count)]
        self._queues: dict[str, PoolQueue] = {}
        self._opened: dict[str, str | None] = {}
        self._version = 0
        self._work_since = 0.0

    def _make_toloker(self, index: int) -> Toloker:
        rng = random.Random(f"toloker:{self.settings.seed}:{index}")
        user_id = hashlib.md5(f"{self.settings.seed}:{index}".encode()).hexdigest()  # an id, not security
        speed = self.settings.speed * rng.lognormvariate(0.0, SPEED_SIGMA)
        return Toloker(user_id, _own_accuracy(self.settings.accuracy, rng), speed, rng)

    # -- new work -------------------------------------------------------------------------

    def notice(self) -> None:
        """Take in pools opened and tasks added since the last call, and wake idle tolokers for them."""
        for pool_id, pool in self.pools.items():
            if pool.get("status") != "OPEN":
                continue
            queue = self._queues.setdefault(pool_id, PoolQueue())
            started = pool.get("last_started")
            if self._opened.get(pool_id) != started:
                self._opened[pool_id] = started
                self._new_work(parse_time(started) if started else 0.0)
            self._take_new_tasks(pool, queue)
        if self._version:
            for toloker in self.tolokers:
                if not toloker.busy and toloker.seen_version < self._version:
                    toloker.busy = True
                    start = max(toloker.idle_since, self._work_since) + toloker.rng.uniform(0.0, 1.0 / toloker.speed)
                    self.timeline.schedule(start, partial(self._take, toloker))

    def _new_work(self, since: float) -> None:
        self._version += 1
        self._work_since = max(self._work_since, since)

    def _take_new_tasks(self, pool: Mapping[str, Any], queue: PoolQueue) -> None:
        pool_id = str(pool["id"])
        count = self.tasks.count(pool_id)
        if count == queue.seen:
            return
        new, _ = self.tasks.page(ListQuery(id_gt=queue.last_task_id, limit=count - queue.seen), pool_id)
        if not new:
            return
        queue.seen += len(new)
        queue.last_task_id = new[-1]["id"]
        regular = [task for task in new if known_answer(task) is None]
        queue.controls.extend(task for task in new if known_answer(task) is not None)
        if not (pool.get("mixer_config") or {}).get("mix_tasks_in_creation_order", False):
            self.rng.shuffle(regular)
        queue.tasks.extend(regular)
        self._new_work(parse_time(new[0]["created"]) if new[0].get("created") else self._work_since)

    # -- a toloker's steps ----------------------------------------------------------------

    def _open_pools(self, when: float) -> list[dict[str, Any]]:
        candidates = [
            pool
            for pool in self.pools.values()
            if pool.get("status") == "OPEN" and not self.closer.expire_if_due(str(pool["id"]), when)
        ]
        self.rng.shuffle(candidates)
        candidates.sort(key=lambda pool: -int(pool.get("priority") or 0))
        return candidates

    def _take(self, toloker: Toloker, when: float) -> None:
        for pool in self._open_pools(when):
            queue = self._queues.get(str(pool["id"]))
            suite = self._suite(toloker, pool, queue) if queue else []
            if not suite:
                continue
            if not self.billing.can_reserve(float(pool.get("reward_per_assignment", 0.0))):
                self.closer.close(pool, "NOT_ENOUGH_BALANCE", when)
                continue
            self._start(toloker, pool, suite, when)
            return
        toloker.busy = False
        toloker.idle_since = when
        toloker.seen_version = self._version

    def _suite(self, toloker: Toloker, pool: Mapping[str, Any], queue: PoolQueue) -> list[dict[str, Any]]:
        mixer = pool.get("mixer_config") or {}
        real_count = int(mixer.get("real_tasks_count") or DEFAULT_SUITE_SIZE) if mixer else DEFAULT_SUITE_SIZE
        chosen: list[dict[str, Any]] = []
        chosen_ids: set[str] = set()

        def consider(task: dict[str, Any]) -> None:
            if task["id"] not in toloker.answered and task["id"] not in chosen_ids and self.remaining(task, pool) > 0:
                chosen.append(task)
                chosen_ids.add(task["id"])

        queue.returned = [task for task in queue.returned if self.remaining(task, pool) > 0]
        for task in queue.returned:
            if len(chosen) >= real_count:
                break
            consider(task)
        while queue.head < len(queue.tasks) and self.remaining(queue.tasks[queue.head], pool) <= 0:
            queue.head += 1
        position = queue.head
        while len(chosen) < real_count and position < len(queue.tasks):
            consider(queue.tasks[position])
            position += 1
        if not chosen:
            return []
        minimum = int(mixer.get("min_real_tasks_count") or real_count)
        if len(chosen) < minimum and not mixer.get("force_last_assignment", True):
            return []
        golden_count = int(mixer.get("golden_tasks_count") or 0)
        if golden_count and queue.controls:
            fresh = [task for task in queue.controls if task["id"] not in toloker.answered]
            chosen += toloker.rng.sample(fresh, min(golden_count, len(fresh)))
            if mixer.get("shuffle_tasks_in_task_suite", True):
                toloker.rng.shuffle(chosen)
        return chosen

    def _start(self, toloker: Toloker, pool: dict[str, Any], suite: list[dict[str, Any]], when: float) -> None:
        assignment = self.book.create(pool, suite, toloker.user_id, when)
        toloker.answered.update(task["id"] for task in suite)
        duration = len(suite) / toloker.speed
        limit = float(pool.get("assignment_max_duration_seconds") or duration)
        if duration > limit:

            def expire(moment: float) -> None:
                self.book.expire(assignment, moment)
                self._queues[str(pool["id"])].returned.extend(suite)
                self._new_work(moment)
                self._take(toloker, moment)

            self.timeline.schedule(when + limit, expire)
            return

        def submit(moment: float) -> None:
            space = self.truth.space(str(pool["id"]))
            solutions = [
                {"output_values": space.answer(self.truth.of(task), toloker.accuracy, toloker.rng)} for task in suite
            ]
            self.book.submit(assignment, solutions, pool, moment)
            self._take(toloker, moment)

        self.timeline.schedule(when + duration, submit)
