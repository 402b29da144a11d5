"""Training pools (exam pools) of the emulator: ``/trainings`` with TRAINING.OPEN/CLOSE/ARCHIVE operations.

A training shares the pools' id counter (as in Toloka), so tasks stored with its id as ``pool_id`` count
as its tasks.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_toloka.testing.body_checks import (
    check_int,
    check_required,
    check_types,
    raise_if_any,
    require_object,
)
from airflow_provider_toloka.testing.errors import ApiError, does_not_exist, field_error, validation_error
from airflow_provider_toloka.testing.lifecycle import inappropriate_status
from airflow_provider_toloka.testing.operations import Operation
from airflow_provider_toloka.testing.paging import ListQuery, numeric_id, page_objects
from airflow_provider_toloka.testing.state import OWNER
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.timefmt import iso_utc

REQUIRED = ("inherited_instructions", "private_name", "project_id", "training_tasks_in_task_suite_count")
BOUNDS = {
    "assignment_max_duration_seconds": (5, 2147483647),
    "training_tasks_in_task_suite_count": (0, 500),
    "task_suites_required_to_pass": (0, 500),
    "retry_training_after_days": (1, None),
}
TYPES = {
    "private_name": str,
    "inherited_instructions": bool,
    "public_instructions": str,
    "may_contain_adult_content": bool,
    "mix_tasks_in_creation_order": bool,
    "shuffle_tasks_in_task_suite": bool,
    "metadata": dict,
}
READ_ONLY = ("id", "owner", "status", "created", "last_started", "last_stopped", "last_close_reason")


class Trainings:
    """Training pools.

    :param access: the emulator's store.
    """

    def __init__(self, access: StoreAccess) -> None:
        self.access = access
        self.store = access.state.extended.trainings

    @staticmethod
    def _checked(body: Any) -> dict[str, Any]:
        body = require_object(body)
        errors: dict[str, dict[str, str]] = {}
        check_required(body, REQUIRED, errors)
        check_types(body, TYPES, errors)
        for name, (low, high) in BOUNDS.items():
            check_int(body, name, errors, low, high)
        raise_if_any(errors)
        return {key: value for key, value in body.items() if key not in READ_ONLY}

    def create(self, body: Any) -> dict[str, Any]:
        """POST /trainings: 201 with the training (CLOSED)."""
        body = self._checked(body)
        project_id = str(body["project_id"])
        with self.access.transaction() as now:
            if project_id not in self.access.state.projects:
                raise validation_error(
                    {"project_id": field_error("ENTITY_DOES_NOT_EXIST", f"Project {project_id} does not exist")}
                )
            training = {**body, "project_id": project_id, "id": self.access.next_object_id(), "owner": OWNER}
            training.update(status="CLOSED", created=iso_utc(now))
            self.store[training["id"]] = training
            return training

    def update(self, training_id: str, body: Any) -> dict[str, Any]:
        """PUT /trainings/{id}: replace the settings (all sent)."""
        body = self._checked(body)
        with self.access.transaction():
            training = self.get(training_id)
            kept = {key: training[key] for key in (*READ_ONLY, "project_id") if key in training}
            training.clear()
            training.update(body, **kept)
            return training

    def get(self, training_id: str) -> dict[str, Any]:
        """GET /trainings/{id}."""
        with self.access.transaction():
            training = self.store.get(training_id)
            if training is None:
                raise does_not_exist("Training", training_id)
            return training

    def list(self, query: ListQuery, project_id: str | None, status: str | None) -> tuple[list[Any], bool]:
        """GET /trainings (filters ``project_id``, ``status``)."""
        with self.access.transaction():
            filters = {"project_id": project_id, "status": status}
            return page_objects(self.store.values(), query, filters=filters, id_key=numeric_id)

    def open(self, training_id: str) -> dict[str, Any] | None:
        """POST /trainings/{id}/open: TRAINING.OPEN; None when open; 409 EMPTY_POOL without tasks."""
        with self.access.transaction() as now:
            training = self.get(training_id)
            if training["status"] == "OPEN":
                return None
            if training["status"] == "ARCHIVED":
                raise inappropriate_status("Pool", training_id, "ARCHIVED", "CLOSED")
            if self.access.state.tasks.count(training_id) == 0:
                raise ApiError(409, "EMPTY_POOL", f"Training {training_id} has no tasks and cannot be opened", None)

            def open_training(operation: Operation) -> None:
                training.update(status="OPEN", last_started=iso_utc(operation.due))

            return self.access.submit("TRAINING.OPEN", now, {"training_id": training_id}, open_training)

    def close(self, training_id: str) -> dict[str, Any] | None:
        """POST /trainings/{id}/close: TRAINING.CLOSE; None when not open."""
        with self.access.transaction() as now:
            training = self.get(training_id)
            if training["status"] != "OPEN":
                return None

            def close_training(operation: Operation) -> None:
                training.update(status="CLOSED", last_close_reason="MANUAL", last_stopped=iso_utc(operation.due))

            return self.access.submit("TRAINING.CLOSE", now, {"training_id": training_id}, close_training)

    def archive(self, training_id: str) -> dict[str, Any] | None:
        """POST /trainings/{id}/archive: TRAINING.ARCHIVE of a closed training; None when archived."""
        with self.access.transaction() as now:
            training = self.get(training_id)
            if training["status"] == "ARCHIVED":
                return None
            if training["status"] != "CLOSED":
                raise inappropriate_status("Pool", training_id, training["status"], "CLOSED")

            def archive_training(_: Operation) -> None:
                training["status"] = "ARCHIVED"

            return self.access.submit("TRAINING.ARCHIVE", now, {"training_id": training_id}, archive_training)
