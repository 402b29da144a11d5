"""Task storage with O(limit) paging: ids sort in creation order, pages are found by bisection."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from airflow_provider_toloka.testing.paging import ListQuery, page_objects, text_id


def task_id(number: int) -> str:
    """The id of the ``number``-th task: a UUID-shaped, zero-padded hex counter (sorts as text)."""
    digits = f"{number:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class SortedTasks:
    """Tasks in id (= creation) order, as parallel lists of ids and task objects."""

    __slots__ = ("ids", "tasks")

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.tasks: list[dict[str, Any]] = []

    def extend(self, tasks: list[dict[str, Any]]) -> None:
        """Append tasks whose ids are greater than every stored id."""
        self.ids.extend(task["id"] for task in tasks)
        self.tasks.extend(tasks)

    def page(self, query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
        """One page for ``sort`` id/-id, ``id_gt``/``id_gte``, ``id_lt``/``id_lte`` and ``limit``, in O(limit + log n).

        Tasks are created in id order, so sorting by ``created`` is the same as sorting by ``id``.
        """
        ids = self.ids
        low, high = 0, len(ids)
        if query.id_gt is not None:
            low = max(low, bisect_right(ids, query.id_gt))
        if query.id_gte is not None:
            low = max(low, bisect_left(ids, query.id_gte))
        if query.id_lt is not None:
            high = min(high, bisect_left(ids, query.id_lt))
        if query.id_lte is not None:
            high = min(high, bisect_right(ids, query.id_lte))
        if high <= low:
            return [], False
        if query.descending:
            start = max(low, high - query.limit)
            return self.tasks[start:high][::-1], start > low
        end = min(high, low + query.limit)
        return self.tasks[low:end], end < high


class TaskStore:
    """All tasks of the emulator, indexed by id and by pool."""

    def __init__(self) -> None:
        self._count = 0
        self._all = SortedTasks()
        self._by_pool: dict[str, SortedTasks] = {}
        self._by_id: dict[str, dict[str, Any]] = {}

    def add(self, tasks: list[dict[str, Any]]) -> None:
        """Give each task (which already has its ``pool_id``) a new id and store it, in list order."""
        first = self._count
        self._count += len(tasks)
        by_pool: dict[str, list[dict[str, Any]]] = {}
        for number, task in enumerate(tasks, start=first + 1):
            task["id"] = identifier = task_id(number)
            self._by_id[identifier] = task
            by_pool.setdefault(task["pool_id"], []).append(task)
        self._all.extend(tasks)
        for pool_id, pool_tasks in by_pool.items():
            self._by_pool.setdefault(pool_id, SortedTasks()).extend(pool_tasks)

    def get(self, identifier: str) -> dict[str, Any] | None:
        """The task with this id, or None."""
        return self._by_id.get(identifier)

    def count(self, pool_id: str | None = None) -> int:
        """Number of tasks in one pool, or in all pools."""
        if pool_id is None:
            return len(self._all.ids)
        tasks = self._by_pool.get(pool_id)
        return len(tasks.ids) if tasks else 0

    def page(self, query: ListQuery, pool_id: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        """One page of the tasks of ``pool_id`` (all tasks when None).

        Sorting by ``id`` or ``created`` (the same order for tasks) with id bounds is O(limit + log n);
        range filters (``created_*``, ``overlap*``) or mixed sort directions read the pool's tasks.
        """
        tasks = self._all if pool_id is None else self._by_pool.get(pool_id)
        if not tasks:
            return [], False
        directions = {descending for _, descending in query.sort_keys}
        if query.ranges or len(directions) > 1:
            return page_objects(tasks.tasks, query, id_key=text_id)
        return tasks.page(query)
