"""Pool, project and task changes after creation: archive, clone, edit, close for update, patch overlap.

Operation types and statuses as in the reference: POOL.ARCHIVE, POOL.CLONE, POOL.CLOSE (close for
update, ``last_close_reason`` FOR_UPDATE), PROJECT.ARCHIVE; 204 when there is nothing to do, 409 when the
object's status forbids the change.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_provider_toloka.client.models import pool_errors, project_errors
from airflow_provider_toloka.testing.body_checks import (
    check_int,
    check_types,
    raise_if_any,
    refuse_unknown,
    require_object,
)
from airflow_provider_toloka.testing.errors import ApiError, does_not_exist, validation_error
from airflow_provider_toloka.testing.operations import POOL_CLOSE, Operation
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.timefmt import iso_utc

POOL_ARCHIVE = "POOL.ARCHIVE"
POOL_CLONE = "POOL.CLONE"
PROJECT_ARCHIVE = "PROJECT.ARCHIVE"

#: Pool fields the API sets itself: kept from the stored pool on PUT, dropped from a clone.
POOL_READ_ONLY = (
    "id",
    "project_id",
    "owner",
    "type",
    "status",
    "last_close_reason",
    "created",
    "last_started",
    "last_stopped",
)
PROJECT_READ_ONLY = ("id", "owner", "status", "created")
TASK_PATCH_FIELDS = (
    "overlap",
    "infinite_overlap",
    "baseline_solutions",
    "known_solutions",
    "message_on_unknown_solution",
)
#: Assignment statuses that use up a unit of a task's overlap.
COUNTED_STATUSES = ("ACTIVE", "SUBMITTED", "ACCEPTED")


def inappropriate_status(kind: str, object_id: str, status: str, wanted: str) -> ApiError:
    """409 ``<KIND>_INAPPROPRIATE_STATUS`` for an object whose status forbids the request."""
    return ApiError(
        409,
        f"{kind.upper()}_INAPPROPRIATE_STATUS",
        f"{kind} {object_id} is {status}; the request needs it {wanted}",
        {"status": status},
    )


class Lifecycle:
    """Lifecycle requests on the pools, projects and tasks of one emulator.

    :param access: the emulator's store.
    """

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    # -- pools --------------------------------------------------------------------------

    def archive_pool(self, pool_id: str) -> dict[str, Any] | None:
        """POST /pools/{id}/archive: POOL.ARCHIVE for a closed pool; None when already archived."""
        with self.access.transaction() as now:
            pool = self.access.pool(pool_id)
            if pool["status"] == "ARCHIVED":
                return None
            if pool["status"] != "CLOSED":
                raise inappropriate_status("Pool", pool_id, pool["status"], "CLOSED")

            def archive(_: Operation) -> None:
                pool["status"] = "ARCHIVED"

            return self.access.submit(POOL_ARCHIVE, now, {"pool_id": pool_id}, archive)

    def clone_pool(self, pool_id: str) -> dict[str, Any]:
        """POST /pools/{id}/clone: POOL.CLONE; the new pool (same settings, no tasks) is in ``details.pool_id``."""
        with self.access.transaction() as now:
            pool = self.access.pool(pool_id)
            self.access.count_pool_creation(now)

            def clone(operation: Operation) -> None:
                settings = {key: value for key, value in pool.items() if key not in POOL_READ_ONLY}
                new_id = self.access.next_object_id()
                self.access.state.pools[new_id] = {
                    **copy.deepcopy(settings),
                    "id": new_id,
                    "project_id": pool["project_id"],
                    "owner": pool["owner"],
                    "type": pool.get("type", "REGULAR"),
                    "status": "CLOSED",
                    "created": iso_utc(operation.due),
                }
                operation.details["pool_id"] = new_id

            return self.access.submit(POOL_CLONE, now, {"pool_id": pool_id}, clone)

    def close_pool_for_update(self, pool_id: str) -> dict[str, Any] | None:
        """POST /pools/{id}/close-for-update: POOL.CLOSE with reason FOR_UPDATE; None when not open."""
        with self.access.transaction() as now:
            pool = self.access.pool(pool_id)
            if pool["status"] == "ARCHIVED":
                raise inappropriate_status("Pool", pool_id, "ARCHIVED", "OPEN or CLOSED")
            if pool["status"] != "OPEN":
                return None

            def close(operation: Operation) -> None:
                pool.update(status="CLOSED", last_close_reason="FOR_UPDATE", last_stopped=iso_utc(operation.due))

            return self.access.submit(POOL_CLOSE, now, {"pool_id": pool_id}, close)

    def update_pool(self, pool_id: str, body: Any) -> dict[str, Any]:
        """PUT /pools/{id}: replace the settings of a pool that is not open (all fields sent)."""
        body = require_object(body)
        with self.access.transaction():
            pool = self.access.pool(pool_id)
            if pool["status"] != "CLOSED":
                raise inappropriate_status("Pool", pool_id, pool["status"], "CLOSED")
            sent = {key: value for key, value in body.items() if key not in POOL_READ_ONLY}
            errors = pool_errors({**sent, "project_id": pool["project_id"]})
            raise_if_any(errors)
            kept = {key: pool[key] for key in POOL_READ_ONLY if key in pool}
            pool.clear()
            pool.update(sent, **kept)
            return pool

    def patch_pool(self, pool_id: str, body: Any) -> dict[str, Any] | None:
        """PATCH /pools/{id}: change ``priority`` (0..100) of an open or closed pool; None when archived (409)."""
        body = require_object(body)
        errors: dict[str, dict[str, str]] = {}
        refuse_unknown(body, ("priority",), errors)
        check_int(body, "priority", errors, 0, 100)
        raise_if_any(errors)
        with self.access.transaction():
            pool = self.access.pool(pool_id)
            if pool["status"] == "ARCHIVED":
                return None
            if body.get("priority") is not None:
                pool["priority"] = body["priority"]
            return pool

    # -- projects -----------------------------------------------------------------------

    def update_project(self, project_id: str, body: Any) -> dict[str, Any]:
        """PUT /projects/{id}: replace the project's fields (all sent) of an active project."""
        body = require_object(body)
        sent = {key: value for key, value in body.items() if key not in PROJECT_READ_ONLY}
        raise_if_any(project_errors(sent))
        with self.access.transaction():
            project = self.access.project(project_id)
            if project["status"] != "ACTIVE":
                raise inappropriate_status("Project", project_id, project["status"], "ACTIVE")
            kept = {key: project[key] for key in PROJECT_READ_ONLY if key in project}
            project.clear()
            project.update(sent, **kept)
            self.access.forget_validator(project_id)
            return project

    def archive_project(self, project_id: str) -> dict[str, Any] | None:
        """POST /projects/{id}/archive: PROJECT.ARCHIVE once all its pools are archived; None when archived.

        :raises ApiError: 409 UNARCHIVED_POOLS_CONFLICT while a pool of the project is not archived.
        """
        with self.access.transaction() as now:
            project = self.access.project(project_id)
            if project["status"] == "ARCHIVED":
                return None
            unarchived = sorted(
                (
                    pool["id"]
                    for pool in self.access.state.pools.values()
                    if pool["project_id"] == project_id and pool["status"] != "ARCHIVED"
                ),
                key=int,
            )
            if unarchived:
                raise ApiError(
                    409,
                    "UNARCHIVED_POOLS_CONFLICT",
                    f"Project {project_id} has pools that are not archived: {', '.join(unarchived)}",
                    {"pool_ids": unarchived},
                )

            def archive(_: Operation) -> None:
                project["status"] = "ARCHIVED"

            return self.access.submit(PROJECT_ARCHIVE, now, {"project_id": project_id}, archive, details={})

    # -- tasks --------------------------------------------------------------------------

    def patch_task(self, identifier: str, body: Any) -> dict[str, Any]:
        """PATCH /tasks/{id}: overlap (1..30000), infinite overlap, baseline/known solutions, hint."""
        body = require_object(body)
        errors: dict[str, dict[str, str]] = {}
        refuse_unknown(body, TASK_PATCH_FIELDS, errors)
        check_int(body, "overlap", errors, 1, 30000)
        check_types(
            body,
            {
                "infinite_overlap": bool,
                "baseline_solutions": list,
                "known_solutions": list,
                "message_on_unknown_solution": str,
            },
            errors,
        )
        raise_if_any(errors)
        with self.access.transaction():
            task = self._task(identifier)
            for name in TASK_PATCH_FIELDS:
                if name in body and (body[name] is not None or name == "overlap"):
                    task[name] = body[name]
            if task.get("overlap") is None and not task.get("infinite_overlap"):
                raise validation_error(
                    {"overlap": {"code": "VALUE_REQUIRED", "message": "overlap is required without infinite_overlap"}}
                )
            return task

    def set_overlap_or_min(self, identifier: str, body: Any) -> dict[str, Any]:
        """PATCH /tasks/{id}/set-overlap-or-min: the asked overlap (0..30000), raised to the answers already taken."""
        body = require_object(body)
        errors: dict[str, dict[str, str]] = {}
        refuse_unknown(body, ("overlap", "infinite_overlap"), errors)
        check_int(body, "overlap", errors, 0, 30000)
        check_types(body, {"infinite_overlap": bool}, errors)
        raise_if_any(errors)
        with self.access.transaction():
            task = self._task(identifier)
            if body.get("infinite_overlap") is not None:
                task["infinite_overlap"] = body["infinite_overlap"]
            if body.get("overlap") is not None:
                task["overlap"] = max(body["overlap"], self._taken(identifier))
            return task

    def _task(self, identifier: str) -> dict[str, Any]:
        task = self.access.state.tasks.get(identifier)
        if task is None:
            raise does_not_exist("Task", identifier)
        return task

    def _taken(self, identifier: str) -> int:
        """How many assignments in progress or done hold the task (the lowest overlap it can get)."""
        return sum(
            1
            for assignment in self.access.state.assignments.values()
            if assignment.get("status") in COUNTED_STATUSES
            and any(task.get("id") == identifier for task in assignment.get("tasks") or ())
        )
