"""Task suites (``/task-suites``): created one by one, in synchronous lists or by a TASK_SUITE.BATCH_CREATE.

A suite's tasks are stored as tasks of its pool too (``GET /tasks``, ``GET /tasks/{id}`` show them and
a pool holding only suites can be opened); the suite view lists them with their ids. Quotas as in the
reference: 100,000 suites a minute and 2,000,000 a day (the emulator's quota and day windows);
at most 5,000 suites in a synchronous and 100,000 in an asynchronous request, and at most 1,048,576
bytes of ``input_values`` a request (413 otherwise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from airflow_provider_toloka.testing.batches import task_view
from airflow_provider_toloka.testing.body_checks import (
    Errors,
    check_int,
    check_number,
    check_types,
    raise_if_any,
    refuse_unknown,
    require_object,
)
from airflow_provider_toloka.testing.errors import does_not_exist, field_error, validation_error
from airflow_provider_toloka.testing.lifecycle import COUNTED_STATUSES
from airflow_provider_toloka.testing.limits import FixedWindow, Quota
from airflow_provider_toloka.testing.operations import TASK_SUITE_BATCH_CREATE
from airflow_provider_toloka.testing.paging import ListQuery, page_objects, text_id
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.suite_checks import (
    ISSUING_ORDER_BOUND,
    MAX_OVERLAP,
    Valid,
    check_suites,
)
from airflow_provider_toloka.testing.timefmt import iso_utc
from airflow_provider_toloka.testing.uploads import UploadKind, Uploads, task_input_bytes

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
    return task_input_bytes(
        task
        for item in items
        if isinstance(item, dict) and isinstance(item.get("tasks"), list)
        for task in item["tasks"]
    )


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
        #: ``POST /task-suites``: one suite, a synchronous list, or a TASK_SUITE.BATCH_CREATE.
        self.uploads = Uploads(
            access,
            UploadKind(
                noun="task suites",
                operation_type=TASK_SUITE_BATCH_CREATE,
                log_prefix="TASK_SUITE",
                quota=self.quota,
                check=self._check,
                store=self.store_all,
                input_bytes=input_bytes,
            ),
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

    def store_all(self, views: list[dict[str, Any]], when: float) -> None:
        """Store checked suites in order (see :meth:`store`)."""
        for view in views:
            self.store(view, when)

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
