"""In-memory store of the emulator and the API's business rules (thread-safe, one lock).

Time is lazy: asynchronous operations finish by the clock, and their effects (tasks becoming
visible, pools opening or closing) are applied at the start of the next call that touches the
store ("settling" due operations), so no timer threads are needed.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
from collections import ChainMap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from airflow_provider_toloka.client.models import pool_errors, project_errors
from airflow_provider_toloka.client.validation import InputValidator
from airflow_provider_toloka.testing.batches import Errors, Valid, check_items
from airflow_provider_toloka.testing.config import EmulatorConfig
from airflow_provider_toloka.testing.errors import ApiError, does_not_exist, field_error, validation_error
from airflow_provider_toloka.testing.extended_state import ExtendedState
from airflow_provider_toloka.testing.fields import (
    POOL_FORM_FIELDS,
    POOL_READ_ONLY_FIELDS,
    PROJECT_FORM_FIELDS,
    PROJECT_READ_ONLY_FIELDS,
    unknown_field_errors,
    writable,
)
from airflow_provider_toloka.testing.labeling import Labeling
from airflow_provider_toloka.testing.limits import FixedWindow, Quota, retry_after_header
from airflow_provider_toloka.testing.operations import POOL_CLOSE, POOL_OPEN, TASK_BATCH_CREATE, Operation
from airflow_provider_toloka.testing.paging import ListQuery, numeric_id, page_objects, text_id
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.tasks import TaskStore
from airflow_provider_toloka.testing.timefmt import iso_utc
from airflow_provider_toloka.testing.uploads import UploadKind, Uploads, task_input_bytes

REQUESTER_ID = "emulator-requester"
OWNER = {"id": REQUESTER_ID, "myself": True, "company_id": "emulator-company"}


class EmulatorState:
    """Projects, pools, tasks, operations and assignments of one emulator.

    :param config: quotas and operation delay.
    :param clock: source of POSIX time (injectable for tests).
    """

    def __init__(self, config: EmulatorConfig | None = None, clock: Callable[[], float] = time.time) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock
        self.lock = threading.RLock()
        self.projects: dict[str, dict[str, Any]] = {}
        self.pools: dict[str, dict[str, Any]] = {}
        self.tasks = TaskStore()
        self.operations: dict[str, Operation] = {}
        self.assignments: dict[str, dict[str, Any]] = {}
        self.extended = ExtendedState()  # skills, trainings, attachments, ... (testing/extended_state.py)
        self.requester: dict[str, Any] = {
            "id": REQUESTER_ID,
            "public_name": {"EN": "Toloka emulator"},
            "company": {"id": OWNER["company_id"], "superintendent_id": REQUESTER_ID},
        }
        self._object_ids = itertools.count(1)
        self._due: list[tuple[float, int, Operation]] = []
        self._due_sequence = itertools.count()
        self.labeling = Labeling(self)  # assignments, crowd, balance, pools closing (testing/labeling.py)
        self._validators: dict[str, InputValidator] = {}
        self._project_quota = self._make_quota("project creation", self.config.projects_per_minute)
        self._pool_quota = self._make_quota("pool creation", self.config.pools_per_minute)
        self._task_uploads = Uploads(
            StoreAccess(self),
            UploadKind(
                noun="tasks",
                operation_type=TASK_BATCH_CREATE,
                log_prefix="TASK",
                quota=self._make_quota("task creation", self.config.tasks_per_minute),
                check=self._check_tasks,
                store=self._store_tasks,
                input_bytes=task_input_bytes,
            ),
        )
        #: POST /tasks: one task object, a synchronous list, or ``async_mode=true`` (a TASK.BATCH_CREATE).
        self.create_task = self._task_uploads.create_one
        self.create_tasks_sync = self._task_uploads.create_sync
        self.create_tasks_async = self._task_uploads.create_async

    # -- time ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[float]:
        """Hold the lock, settle due operations and yield the request's single ``now``."""
        with self.lock:
            now = self.clock()
            self._settle(now)
            yield now

    def _settle(self, now: float) -> None:
        while self._due and self._due[0][0] <= now:
            due, _, operation = heapq.heappop(self._due)
            self.labeling.advance(due)
            operation.apply()
        self.labeling.advance(now)

    def settle(self) -> None:
        """Apply the effects of every operation that has finished by now."""
        with self._transaction():
            pass

    def _submit(self, operation: Operation, now: float) -> dict[str, Any]:
        self.operations[operation.id] = operation
        heapq.heappush(self._due, (operation.due, next(self._due_sequence), operation))
        self._settle(now)
        return operation.to_json(now)

    def _make_quota(self, what: str, per_minute: int) -> Quota:
        config = self.config
        per_day = {
            "project creation": config.projects_per_day,
            "pool creation": config.pools_per_day,
            "task creation": config.tasks_per_day,
        }[what]
        return Quota(
            what, {"MIN": FixedWindow(per_minute, config.quota_window), "DAY": FixedWindow(per_day, config.day_window)}
        )

    @staticmethod
    def _quota(quota: Quota, amount: int, now: float) -> None:
        """Raise 429 TOO_MANY_REQUESTS (``payload.interval`` MIN or DAY) when ``amount`` more would exceed a quota."""
        exceeded = quota.exceeded(amount, now)
        if exceeded is not None:
            interval, window, wait = exceeded
            raise ApiError(
                429,
                "TOO_MANY_REQUESTS",
                f"Too many requests: {quota.what} quota of {window.limit:g} per {interval} exceeded",
                {"interval": interval, "limit": window.limit, "window_seconds": window.window},
                retry_after_header(wait),
            )

    # -- projects -----------------------------------------------------------------------

    def create_project(self, body: Any) -> dict[str, Any]:
        """POST /projects: validate, count against the quota and store the project."""
        errors = project_errors(body)
        if isinstance(body, dict):
            errors.update(unknown_field_errors(body, PROJECT_FORM_FIELDS, PROJECT_READ_ONLY_FIELDS))
        if errors:
            raise validation_error(errors)
        with self._transaction() as now:
            self._quota(self._project_quota, 1, now)
            self._project_quota.consume(1, now)
            project = writable(body, PROJECT_FORM_FIELDS)
            project.update(id=str(next(self._object_ids)), status="ACTIVE", created=iso_utc(now))
            project["owner"] = OWNER
            self.projects[project["id"]] = project
            return project

    def get_project(self, project_id: str) -> dict[str, Any]:
        """GET /projects/{id}."""
        with self._transaction():
            return self._get(self.projects, "Project", project_id)

    def list_projects(
        self, query: ListQuery, status: str | None = None, owner: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """GET /projects (``owner`` is the requester's id: every project here is theirs)."""
        with self._transaction():
            if owner is not None and owner != OWNER["id"]:
                return [], False
            return page_objects(self.projects.values(), query, filters={"status": status}, id_key=numeric_id)

    @staticmethod
    def _get(objects: dict[str, dict[str, Any]], kind: str, object_id: str) -> dict[str, Any]:
        found = objects.get(object_id)
        if found is None:
            raise does_not_exist(kind, object_id)
        return found

    def _validator(self, project_id: str) -> InputValidator:
        validator = self._validators.get(project_id)
        if validator is None:
            spec = self.projects[project_id]["task_spec"]["input_spec"]
            validator = self._validators[project_id] = InputValidator(spec)
        return validator

    # -- pools --------------------------------------------------------------------------

    def create_pool(self, body: Any) -> dict[str, Any]:
        """POST /pools; an unknown ``project_id`` is a 400 VALIDATION_ERROR (field code ENTITY_DOES_NOT_EXIST).

        The pool gets the API's defaults: ``type`` REGULAR, ``priority`` 0, ``status`` CLOSED, ``owner``, ``created``.
        """
        errors = pool_errors(body)
        if isinstance(body, dict):
            errors.update(unknown_field_errors(body, POOL_FORM_FIELDS, POOL_READ_ONLY_FIELDS))
        if errors:
            raise validation_error(errors)
        project_id = str(body["project_id"])
        with self._transaction() as now:
            if project_id not in self.projects:
                raise validation_error(
                    {"project_id": field_error("ENTITY_DOES_NOT_EXIST", f"Project {project_id} does not exist")}
                )
            self._quota(self._pool_quota, 1, now)
            self._pool_quota.consume(1, now)
            pool = {"type": "REGULAR", "priority": 0, **writable(body, POOL_FORM_FIELDS)}
            pool.update(id=str(next(self._object_ids)), project_id=project_id)
            pool.update(status="CLOSED", created=iso_utc(now), owner=OWNER)
            self.pools[pool["id"]] = pool
            return pool

    def get_pool(self, pool_id: str) -> dict[str, Any]:
        """GET /pools/{id}."""
        with self._transaction():
            return self._get(self.pools, "Pool", pool_id)

    def list_pools(
        self, query: ListQuery, project_id: str | None = None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """GET /pools."""
        with self._transaction():
            filters = {"project_id": project_id, "status": status}
            return page_objects(self.pools.values(), query, filters=filters, id_key=numeric_id)

    def open_pool(self, pool_id: str) -> dict[str, Any] | None:
        """POST /pools/{id}/open: a POOL.OPEN operation, or None when the pool is already open.

        :raises ApiError: 404 for an unknown pool, 409 EMPTY_POOL for a pool without tasks.
        """
        with self._transaction() as now:
            pool = self._get(self.pools, "Pool", pool_id)
            if pool["status"] == "OPEN":
                return None
            if self.tasks.count(pool_id) == 0:
                raise ApiError(409, "EMPTY_POOL", f"Pool {pool_id} has no tasks and cannot be opened", None)
            return self._submit(self._pool_operation(POOL_OPEN, pool, now), now)

    def close_pool(self, pool_id: str) -> dict[str, Any] | None:
        """POST /pools/{id}/close: a POOL.CLOSE operation, or None when the pool is already closed."""
        with self._transaction() as now:
            pool = self._get(self.pools, "Pool", pool_id)
            if pool["status"] == "CLOSED":
                return None
            return self._submit(self._pool_operation(POOL_CLOSE, pool, now), now)

    def _pool_operation(self, kind: str, pool: dict[str, Any], now: float) -> Operation:
        def effect(operation: Operation) -> None:
            if kind == POOL_OPEN:
                self._set_open(pool, operation.due)
            else:
                pool.update(status="CLOSED", last_close_reason="MANUAL", last_stopped=iso_utc(operation.due))

        return Operation(
            str(uuid.uuid4()), kind, now, self.config.operation_delay, {"pool_id": pool["id"]}, effect=effect
        )

    @staticmethod
    def _set_open(pool: dict[str, Any], when: float) -> None:
        if pool["status"] != "OPEN":
            pool.update(status="OPEN", last_started=iso_utc(when))

    def _open_by_upload(self, pool_id: str, when: float) -> None:
        self._set_open(self.pools[pool_id], when)

    # -- tasks --------------------------------------------------------------------------

    def _task_pools(self) -> ChainMap[str, dict[str, Any]]:
        """Where tasks may be posted: pools and training pools (a training's tasks carry its id as ``pool_id``)."""
        return ChainMap(self.pools, self.extended.trainings)

    def _store_tasks(self, tasks: list[dict[str, Any]], when: float) -> None:
        created = iso_utc(when)
        for task in tasks:
            task["created"] = created
        self.tasks.add(tasks)

    def _check_tasks(self, items: list[Any], allow_defaults: bool) -> tuple[Valid, dict[int, Errors]]:
        return check_items(items, self._task_pools(), self._validator, allow_defaults)

    def get_task(self, identifier: str) -> dict[str, Any]:
        """GET /tasks/{id}."""
        with self._transaction():
            task = self.tasks.get(identifier)
            if task is None:
                raise does_not_exist("Task", identifier)
            return task

    def list_tasks(self, query: ListQuery, pool_id: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        """GET /tasks: O(limit) paging by id."""
        with self._transaction():
            return self.tasks.page(query, pool_id)

    def task_count(self, pool_id: str | None = None) -> int:
        """Number of visible tasks (of one pool, or all)."""
        with self._transaction():
            return self.tasks.count(pool_id)

    # -- operations ---------------------------------------------------------------------

    def get_operation(self, operation_id: str) -> dict[str, Any]:
        """GET /operations/{id}."""
        with self._transaction() as now:
            return self._operation(operation_id).to_json(now)

    def _operation(self, operation_id: str) -> Operation:
        operation = self.operations.get(operation_id)
        if operation is None:
            raise does_not_exist("Operation", operation_id)
        return operation

    def operation_log(self, operation_id: str) -> list[dict[str, Any]]:
        """GET /operations/{id}/log: one line per item once the operation has finished."""
        with self._transaction() as now:
            return self._operation(operation_id).log(now)

    def list_operations(
        self, query: ListQuery, kind: str | None = None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """GET /operations: type and status (comma lists), submitted_* and finished_*; sort id, submitted, finished."""
        with self._transaction() as now:
            rendered = (operation.to_json(now) for operation in self.operations.values())
            return page_objects(
                rendered, query, filters={"type": kind, "status": status}, id_key=text_id, created_field="submitted"
            )

    # -- assignments --------------------------------------------------------------------

    @property
    def add_assignment(self) -> Callable[..., dict[str, Any]]:
        """Seed one assignment: for tests and demos, not part of the API (:meth:`Labeling.add_assignment`)."""
        return self.labeling.add_assignment
