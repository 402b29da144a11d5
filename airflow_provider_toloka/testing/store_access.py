"""The one place where the emulator's extra endpoints reach into ``EmulatorState``.

The endpoints added beside the core ones (pool lifecycle, analytics, skills, trainings, task
suites, attachments) share the state's lock, clock, id counter and operation queue through this
adapter, so that a change in ``EmulatorState`` is fixed here only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.testing.errors import ApiError, does_not_exist
from airflow_provider_toloka.testing.operations import Effect, Operation

if TYPE_CHECKING:
    from airflow_provider_toloka.client.validation import InputValidator
    from airflow_provider_toloka.testing.limits import Quota
    from airflow_provider_toloka.testing.state import EmulatorState


class StoreAccess:
    """Transactions, ids and operations of one emulator state.

    :param state: the emulator's store.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    @contextmanager
    def transaction(self) -> Iterator[float]:
        """Hold the state's lock with due operations settled; yields the request's ``now``."""
        with self.state._transaction() as now:
            yield now

    def next_object_id(self) -> str:
        """A new id from the counter of projects and pools (numeric, as text)."""
        return str(next(self.state._object_ids))

    def validator(self, project_id: str) -> InputValidator:
        """The (cached) input validator of a project."""
        return self.state._validator(project_id)

    def forget_validator(self, project_id: str) -> None:
        """Drop the cached validator of a project whose ``task_spec`` changed."""
        self.state._validators.pop(project_id, None)

    def submit(
        self,
        kind: str,
        now: float,
        parameters: dict[str, Any],
        effect: Effect | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a new operation of type ``kind`` (its effect applied when it finishes); its JSON view."""
        operation = Operation(
            str(uuid.uuid4()), kind, now, self.state.config.operation_delay, parameters, details, effect=effect
        )
        return self.state._submit(operation, now)

    def submit_operation(self, operation: Operation, now: float) -> dict[str, Any]:
        """Queue an operation built by the caller (its own id, outcome and log); its JSON view."""
        return self.state._submit(operation, now)

    def refuse_known_operation(self, operation_id: str | None) -> None:
        """409 OPERATION_ALREADY_EXISTS when ``operation_id`` is taken (an upload sent again)."""
        if operation_id is not None and operation_id in self.state.operations:
            raise ApiError(
                409,
                "OPERATION_ALREADY_EXISTS",
                f"Operation {operation_id} already exists",
                {"operation_id": operation_id},
            )

    def refuse_over_quota(self, quota: Quota, amount: int, now: float) -> None:
        """429 TOO_MANY_REQUESTS when ``amount`` more would exceed ``quota`` (nothing is counted)."""
        self.state._quota(quota, amount, now)

    def task_pools(self) -> Mapping[str, dict[str, Any]]:
        """Where tasks may be posted: pool id (or training id) -> pool."""
        return self.state._task_pools()

    def store_tasks(self, tasks: list[dict[str, Any]], when: float) -> None:
        """Give checked task views their ids and ``created`` and store them."""
        self.state._store_tasks(tasks, when)

    def open_pool_by_upload(self, pool_id: str, when: float) -> None:
        """Open a pool as an upload with ``open_pool`` does (nothing when it is open)."""
        self.state._open_by_upload(pool_id, when)

    def count_pool_creation(self, now: float) -> None:
        """Count one pool creation (a clone) against the pool quota (429 TOO_MANY_REQUESTS over it)."""
        self.state._quota(self.state._pool_quota, 1, now)
        self.state._pool_quota.consume(1, now)

    def pool(self, pool_id: str) -> dict[str, Any]:
        """The stored pool (404 DOES_NOT_EXIST when unknown); call inside a transaction."""
        pool = self.state.pools.get(pool_id)
        if pool is None:
            raise does_not_exist("Pool", pool_id)
        return pool

    def project(self, project_id: str) -> dict[str, Any]:
        """The stored project (404 DOES_NOT_EXIST when unknown); call inside a transaction."""
        project = self.state.projects.get(project_id)
        if project is None:
            raise does_not_exist("Project", project_id)
        return project
