"""Task suites (``/task-suites``): created one by one, in synchronous lists or by a TASK_SUITE.BATCH_CREATE.

A suite's tasks are stored as tasks of its pool too (``GET /tasks``, ``GET /tasks/{id}`` show them and
a pool holding only suites can be opened); the suite view lists them with their ids. Quotas as in the
reference: 100,000 suites a minute and 2,000,000 a day (the emulator's quota and day windows);
at most 5,000 suites in a synchronous and 100,000 in an asynchronous request, and at most 1,048,576
bytes of ``input_values`` a request (413 otherwise).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from airflow_provider_toloka.testing.batches import log_input, task_view
from airflow_provider_toloka.testing.body_checks import (
    Errors,
    check_int,
    check_number,
    check_types,
    raise_if_any,
    refuse_unknown,
    require_object,
)
from airflow_provider_toloka.testing.errors import ApiError, does_not_exist, field_error, validation_error
from airflow_provider_toloka.testing.lifecycle import COUNTED_STATUSES
from airflow_provider_toloka.testing.limits import FixedWindow, Quota
from airflow_provider_toloka.testing.operations import Operation
from airflow_provider_toloka.testing.paging import ListQuery, page_objects, text_id
from airflow_provider_toloka.testing.state import MAX_ASYNC_TASKS, MAX_REQUEST_INPUT_BYTES, MAX_SYNC_TASKS
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.suite_checks import (
    ISSUING_ORDER_BOUND,
    MAX_OVERLAP,
    Valid,
    check_suites,
)
from airflow_provider_toloka.testing.timefmt import iso_utc

TASK_SUITE_BATCH_CREATE = "TASK_SUITE.BATCH_CREATE"
SUITES_PER_MINUTE = 100_000
SUITES_PER_DAY = 2_000_000
PATCH_FIELDS = ("overlap", "infinite_overlap", "issuing_order_override")


def task_suite_id(number: int) -> str:
    """The id of the ``number``-th uploaded suite, shaped as the API's and sorting as created.

    The ``b`` after the dashes keeps them apart from the suites the simulated crowd makes up.
    """
    return f"{number:010x}--b{number:023x}"


def input_bytes(items: Iterable[Any]) -> int:
    """Bytes of the ``input_values`` of every task of the suites in ``items``."""
    return sum(
        len(json.dumps(task.get("input_values")).encode())
        for item in items
        if isinstance(item, dict) and isinstance(item.get("tasks"), list)
        for task in item["tasks"]
        if isinstance(task, dict)
    )


def check_request_size(items: list[Any], body_size: int, limit: int) -> None:
    """413 for more than ``limit`` suites or more than :data:`MAX_REQUEST_INPUT_BYTES` of input_values."""
    if len(items) > limit:
        raise ApiError(
            413,
            "VALIDATION_ERROR",
            f"Too many task suites: {len(items)} > {limit} in one request",
            {"items": field_error("ARRAY_SIZE_GREATER_THAN_MAX", f"At most {limit} items")},
        )
    if body_size > MAX_REQUEST_INPUT_BYTES and input_bytes(items) > MAX_REQUEST_INPUT_BYTES:
        raise ApiError(
            413,
            "VALIDATION_ERROR",
            f"The input_values of the request are over {MAX_REQUEST_INPUT_BYTES} bytes",
            {"input_values": field_error("OBJECT_SIZE_BYTES_GREATER_THAN_MAX", f"At most {MAX_REQUEST_INPUT_BYTES}")},
        )


class SuiteBatch:
    """The deferred part of one TASK_SUITE.BATCH_CREATE: the suites to create when it finishes, and its log."""

    def __init__(self, suites: TaskSuites, items: list[Any], valid: Valid, errors: dict[int, Errors], open_pool: bool):
        self.suites = suites
        self.items = items
        self.valid = valid
        self.errors = errors
        self.open_pool = open_pool
        self.created: dict[int, str] = {}

    def finish(self, operation: Operation) -> None:
        """Create the valid suites (none when the operation fails) and open their pools if asked."""
        if not operation.succeeds:
            operation.details.update(success_count=0, failed_count=len(self.items))
            return
        for index, view in self.valid:
            self.created[index] = self.suites.store(view, operation.due)["id"]
        operation.details.update(success_count=len(self.created), failed_count=len(self.errors))
        if self.open_pool:
            for pool_id in {view["pool_id"] for _, view in self.valid}:
                self.suites.access.open_pool_by_upload(pool_id, operation.due)

    def log(self) -> list[dict[str, Any]]:
        """In request order: TASK_SUITE_CREATE per created suite, TASK_SUITE_VALIDATE per invalid item."""
        lines = []
        for index, item in enumerate(self.items):
            if index in self.created:
                output = {"task_suite_id": self.created[index]}
                lines.append({"type": "TASK_SUITE_CREATE", "success": True, "input": item, "output": output})
            elif index in self.errors:
                lines.append(
                    {
                        "type": "TASK_SUITE_VALIDATE",
                        "success": False,
                        "input": log_input(item),
                        "output": self.errors[index],
                    }
                )
        return lines


class TaskSuites:
    """The task suites of one emulator (stored in ``state.extended.task_suites``).

    :param access: the emulator's store.
    """

    def __init__(self, access: StoreAccess) -> None:
        self.access = access
        config = access.state.config
        self.quota = Quota(
            "task suite creation",
            {
                "MIN": FixedWindow(SUITES_PER_MINUTE, config.quota_window),
                "DAY": FixedWindow(SUITES_PER_DAY, config.day_window),
            },
        )

    @property
    def _suites(self) -> dict[str, dict[str, Any]]:
        return self.access.state.extended.task_suites

    def _check(self, items: list[Any], allow_defaults: bool) -> tuple[Valid, dict[int, Errors]]:
        return check_suites(items, self.access.task_pools(), self.access.validator, allow_defaults)

    def store(self, view: dict[str, Any], when: float) -> dict[str, Any]:
        """Store a checked suite and its tasks (as tasks of its pool); the suite with its and its tasks' ids."""
        sent_tasks = view["tasks"]
        shared = {name: view[name] for name in ("infinite_overlap", "reserved_for", "unavailable_for")}
        tasks = [task_view({**task, **shared}, view["pool_id"], view.get("overlap")) for task in sent_tasks]
        self.access.store_tasks(tasks, when)
        view["tasks"] = [{"id": task["id"], **sent} for task, sent in zip(tasks, sent_tasks, strict=True)]
        view.update(id=task_suite_id(len(self._suites) + 1), created=iso_utc(when))
        self._suites[view["id"]] = view
        return view

    # -- creation -----------------------------------------------------------------------

    def create_one(self, body: dict[str, Any], allow_defaults: bool) -> dict[str, Any]:
        """POST /task-suites with one suite object: the created suite (400 with its field errors otherwise)."""
        with self.access.transaction() as now:
            self.access.refuse_over_quota(self.quota, 1, now)
            valid, errors = self._check([body], allow_defaults)
            if errors:
                raise validation_error(errors[0])
            self.quota.consume(1, now)
            return self.store(valid[0][1], now)

    def create_sync(
        self, items: list[Any], skip_invalid_items: bool, allow_defaults: bool, body_size: int
    ) -> dict[str, Any]:
        """POST /task-suites with a list: ``{"items": {index: suite}, "validation_errors": {index: errors}}``."""
        check_request_size(items, body_size, MAX_SYNC_TASKS)
        with self.access.transaction() as now:
            self.access.refuse_over_quota(self.quota, len(items), now)
            valid, errors = self._check(items, allow_defaults)
            error_payload = {str(index): problems for index, problems in errors.items()}
            if errors and not skip_invalid_items:
                raise validation_error(error_payload, f"{len(errors)} of {len(items)} task suites are invalid")
            self.quota.consume(len(items), now)
            created = {str(index): self.store(view, now) for index, view in valid}
            return {"items": created, "validation_errors": error_payload}

    def create_async(
        self,
        items: list[Any],
        *,
        allow_defaults: bool,
        skip_invalid_items: bool,
        open_pool: bool,
        operation_id: str | None,
        body_size: int,
    ) -> dict[str, Any]:
        """POST /task-suites?async_mode=true: a TASK_SUITE.BATCH_CREATE operation.

        :raises ApiError: 413 when too many items or bytes, 409 OPERATION_ALREADY_EXISTS for a known
            ``operation_id`` (nothing created or counted), 429 over the quota.
        """
        check_request_size(items, body_size, MAX_ASYNC_TASKS)
        with self.access.transaction() as now:
            self.access.refuse_known_operation(operation_id)
            self.access.refuse_over_quota(self.quota, len(items), now)
            valid, errors = self._check(items, allow_defaults)
            self.quota.consume(len(items), now)
            batch = SuiteBatch(self, items, valid, errors, open_pool)
            operation = Operation(
                operation_id or str(uuid.uuid4()),
                TASK_SUITE_BATCH_CREATE,
                now,
                self.access.state.config.operation_delay,
                {"allow_defaults": allow_defaults, "skip_invalid_items": skip_invalid_items, "open_pool": open_pool},
                {
                    "total_count": len(items),
                    "valid_count": len(valid),
                    "not_valid_count": len(errors),
                    "success_count": 0,
                    "failed_count": 0,
                },
                succeeds=skip_invalid_items or not errors,
                effect=batch.finish,
            )
            operation.log_source = batch.log
            return self.access.submit_operation(operation, now)

    # -- reading ------------------------------------------------------------------------

    def get(self, suite_id: str) -> dict[str, Any]:
        """GET /task-suites/{id}."""
        with self.access.transaction():
            return self._suite(suite_id)

    def _suite(self, suite_id: str) -> dict[str, Any]:
        suite = self._suites.get(suite_id)
        if suite is None:
            raise does_not_exist("Task suite", suite_id)
        return suite

    def page(self, query: ListQuery, pool_id: str | None, task_id: str | None) -> tuple[list[dict[str, Any]], bool]:
        """GET /task-suites: the suites of a pool, or those holding a task (one of the two is required)."""
        if not pool_id and not task_id:
            raise validation_error({"pool_id": field_error("VALUE_REQUIRED", "Specify pool_id or task_id")})
        with self.access.transaction():
            suites: Iterable[dict[str, Any]] = self._suites.values()
            if task_id:
                suites = [suite for suite in suites if any(task["id"] == task_id for task in suite["tasks"])]
            return page_objects(suites, query, filters={"pool_id": pool_id}, id_key=text_id)

    # -- changes ------------------------------------------------------------------------

    def patch(self, suite_id: str, body: Any, open_pool: bool) -> dict[str, Any]:
        """PATCH /task-suites/{id}: ``overlap`` (1..30000), ``infinite_overlap`` (required), issuing order."""
        body = require_object(body)
        errors: Errors = {}
        refuse_unknown(body, PATCH_FIELDS, errors)
        if body.get("infinite_overlap") is None:
            errors["infinite_overlap"] = field_error("VALUE_REQUIRED", "infinite_overlap is required")
        check_int(body, "overlap", errors, 1, MAX_OVERLAP)
        check_types(body, {"infinite_overlap": bool}, errors)
        check_number(body, "issuing_order_override", errors, -ISSUING_ORDER_BOUND, ISSUING_ORDER_BOUND)
        raise_if_any(errors)
        with self.access.transaction() as now:
            suite = self._suite(suite_id)
            overlap = body["overlap"] if body.get("overlap") is not None else suite.get("overlap")
            if overlap is None and not body["infinite_overlap"]:
                raise validation_error(
                    {"overlap": field_error("VALUE_REQUIRED", "overlap is required without infinite_overlap")}
                )
            if body.get("issuing_order_override") is not None:
                suite["issuing_order_override"] = body["issuing_order_override"]
            self._set_overlap(suite, overlap, body["infinite_overlap"], self._taken(suite))
            if open_pool:
                self.access.open_pool_by_upload(suite["pool_id"], now)
            return suite

    def set_overlap_or_min(self, suite_id: str, body: Any) -> dict[str, Any]:
        """PATCH /task-suites/{id}/set-overlap-or-min: the asked overlap (0..30000), raised to what is taken."""
        body = require_object(body)
        errors: Errors = {}
        refuse_unknown(body, ("overlap",), errors)
        if body.get("overlap") is None:
            errors["overlap"] = field_error("VALUE_REQUIRED", "overlap is required")
        check_int(body, "overlap", errors, 0, MAX_OVERLAP)
        raise_if_any(errors)
        with self.access.transaction():
            suite = self._suite(suite_id)
            taken = self._taken(suite)
            self._set_overlap(suite, max(body["overlap"], taken), suite["infinite_overlap"], taken)
            return suite

    def _taken(self, suite: dict[str, Any]) -> int:
        """The most assignments in progress or done that hold one of the suite's tasks."""
        ids = {task["id"] for task in suite["tasks"]}
        counts: Counter[str] = Counter()
        for assignment in self.access.state.assignments.values():
            if assignment.get("status") in COUNTED_STATUSES:
                counts.update(task.get("id") for task in assignment.get("tasks") or () if task.get("id") in ids)
        return max(counts.values(), default=0)

    def _set_overlap(self, suite: dict[str, Any], overlap: int | None, infinite: bool, taken: int) -> None:
        """Set the overlap of the suite and of its tasks (the simulated crowd reads the tasks')."""
        suite["infinite_overlap"] = infinite
        if overlap is not None:
            suite.update(overlap=overlap, remaining_overlap=max(overlap - taken, 0))
        for entry in suite["tasks"]:
            task = self.access.state.tasks.get(entry["id"])
            if task is not None:
                task["infinite_overlap"] = infinite
                if overlap is not None:
                    task["overlap"] = overlap
