"""Task intake: checking the items of a POST /tasks request, and the deferred TASK.BATCH_CREATE.

Items are the request's own parsed dicts: valid ones are completed in place (``pool_id`` as text,
default ``overlap``) and stored as they are, without copies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_toloka.client.validation import InputValidator
from airflow_provider_toloka.testing.errors import field_error
from airflow_provider_toloka.testing.operations import Operation

Errors = dict[str, dict[str, str]]
Valid = list[tuple[int, dict[str, Any]]]


def _default_overlap(pool: Mapping[str, Any]) -> int:
    defaults = pool.get("defaults") or {}
    return defaults.get("default_overlap_for_new_tasks") or defaults.get("default_overlap_for_new_task_suites") or 1


def check_items(
    items: list[Any],
    pools: Mapping[str, dict[str, Any]],
    validator_for: Callable[[str], InputValidator],
) -> tuple[Valid, dict[int, Errors]]:
    """Split request items into valid ``(index, task)`` pairs and field errors by index.

    :param items: the parsed request items.
    :param pools: pool id -> pool.
    :param validator_for: project id -> its (cached) input validator.
    """
    valid: Valid = []
    errors: dict[int, Errors] = {}
    overlaps: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[index] = {"": field_error("INVALID_TYPE", "A task must be an object")}
            continue
        raw_pool_id = item.get("pool_id")
        if raw_pool_id is None:
            errors[index] = {"pool_id": field_error("VALUE_REQUIRED", "pool_id is required")}
            continue
        pool_id = str(raw_pool_id)
        pool = pools.get(pool_id)
        if pool is None:
            errors[index] = {"pool_id": field_error("DOES_NOT_EXIST", f"Pool {pool_id} does not exist")}
            continue
        problems = validator_for(pool["project_id"]).validate_task(item)
        if problems:
            errors[index] = problems
            continue
        if raw_pool_id is not pool_id:
            item["pool_id"] = pool_id
        if item.get("overlap") is None:
            overlap = overlaps.get(pool_id)
            if overlap is None:
                overlap = overlaps[pool_id] = _default_overlap(pool)
            item["overlap"] = overlap
        valid.append((index, item))
    return valid, errors


def log_input(index: int, item: Any) -> dict[str, Any]:
    """The lean ``input`` of a log line.

    The item's index, pool and client tags (``__*`` fields, e.g. toloka-kit's ``__item_idx``).
    """
    line: dict[str, Any] = {"index": index}
    if isinstance(item, dict):
        if "pool_id" in item:
            line["pool_id"] = item["pool_id"]
        line.update((key, value) for key, value in item.items() if key.startswith("__"))
    return line


class TaskBatch:
    """The deferred part of one TASK.BATCH_CREATE: what to create when it finishes, and its log.

    :param items: the request items.
    :param valid: the valid ``(index, task)`` pairs.
    :param errors: field errors by index.
    :param open_pool: open the pools of the created tasks when the operation succeeds.
    :param store: stores tasks, created at the given time.
    :param open_pool_by_id: opens one pool at the given time.
    """

    __slots__ = ("created", "error_inputs", "errors", "open_pool", "open_pool_by_id", "store", "total", "valid")

    def __init__(
        self,
        items: list[Any],
        valid: Valid,
        errors: dict[int, Errors],
        open_pool: bool,
        store: Callable[[list[dict[str, Any]], float], None],
        open_pool_by_id: Callable[[str, float], None],
    ) -> None:
        self.total = len(items)
        self.valid: Valid | None = valid
        self.errors = errors
        self.error_inputs = {index: log_input(index, items[index]) for index in errors}
        self.open_pool = open_pool
        self.created: dict[int, dict[str, Any]] = {}
        self.store = store
        self.open_pool_by_id = open_pool_by_id

    def finish(self, operation: Operation) -> None:
        """Create the valid tasks (nothing when the operation fails) and open their pools if asked."""
        valid, self.valid = self.valid or [], None
        if not operation.succeeds:
            operation.details.update(success_count=0, failed_count=self.total)
            return
        tasks = [task for _, task in valid]
        self.store(tasks, operation.due)
        self.created = dict(valid)
        operation.details.update(success_count=len(tasks), failed_count=len(self.errors))
        if self.open_pool:
            for pool_id in {task["pool_id"] for task in tasks}:
                self.open_pool_by_id(pool_id, operation.due)

    def log(self) -> list[dict[str, Any]]:
        """One TASK_CREATE line per item, in request order."""
        lines = []
        for index in range(self.total):
            task = self.created.get(index)
            if task is not None:
                success, line_input, output = True, log_input(index, task), {"task_id": task["id"]}
            elif index in self.errors:
                success, line_input = False, self.error_inputs[index]
                output = self.errors[index]
            else:
                success, line_input = False, {"index": index}
                output = {"message": "Not created: the operation failed because of invalid items"}
            lines.append({"type": "TASK_CREATE", "success": success, "input": line_input, "output": output})
        return lines
