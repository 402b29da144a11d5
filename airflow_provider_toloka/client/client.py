"""TolokaClient: the Toloka API in Python, with no Airflow in it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from airflow_provider_toloka.client.config import ClientConfig
from airflow_provider_toloka.client.errors import TolokaNetworkError, TolokaServerError, TolokaValidationError
from airflow_provider_toloka.client.http import HttpTransport
from airflow_provider_toloka.client.logger import LoggerLike
from airflow_provider_toloka.client.models import Operation, Pool, Project, pool_errors, project_errors
from airflow_provider_toloka.client.operations import OperationTracker
from airflow_provider_toloka.client.results import PoolResultsMixin
from airflow_provider_toloka.client.upload import TaskUploadMixin, UploadResult
from airflow_provider_toloka.client.validation import InputValidator, format_errors

__all__ = ["TolokaClient", "UploadResult"]

log = logging.getLogger(__name__)

#: Metadata key under which created projects and pools carry the caller's idempotency key.
IDEMPOTENCY_METADATA_KEY = "airflow_provider_toloka_key"


def _with_key(body: dict[str, Any], key: str) -> dict[str, Any]:
    metadata = dict(body.get("metadata") or {})
    metadata[IDEMPOTENCY_METADATA_KEY] = [key]
    return {**body, "metadata": metadata}


def _has_key(item: dict[str, Any], key: str) -> bool:
    return (item.get("metadata") or {}).get(IDEMPOTENCY_METADATA_KEY) == [key]


def _as_body(obj: Any) -> dict[str, Any]:
    return obj.to_api() if isinstance(obj, (Project, Pool)) else dict(obj)


class TolokaClient(TaskUploadMixin, PoolResultsMixin):
    """Authenticated access to the Toloka API.

    Tasks (validation, batching, exactly-once uploads) are in :class:`TaskUploadMixin`; a pool's
    state, assignments, reviews and aggregation in :class:`PoolResultsMixin`.

    :param config: where and how to connect (see :class:`ClientConfig`).
    :param logger: where progress and retries are logged.
    """

    def __init__(self, config: ClientConfig, logger: LoggerLike | None = None) -> None:
        self.config = config
        self.log: LoggerLike = logger or log
        self.http = HttpTransport(config, self.log)
        self._validators: dict[str, InputValidator] = {}

    def __repr__(self) -> str:
        return f"TolokaClient({self.config.base_url!r})"

    def close(self) -> None:
        """Release the pooled connections."""
        self.http.close()

    # --- account -------------------------------------------------------------------------

    def get_requester(self) -> dict[str, Any]:
        """The account the key belongs to (``GET /requester``)."""
        return self.http.request("GET", "/requester")

    # --- projects and pools --------------------------------------------------------------

    def create_project(self, project: dict[str, Any] | Project, idempotency_key: str | None = None) -> Project:
        """Validate the project locally, then create it.

        :param idempotency_key: when given, the project is tagged with it in ``metadata`` and a
            project already tagged so is returned instead of creating another.
        :raises TolokaValidationError: the project is invalid; nothing was sent.
        """
        body = _as_body(project)
        errors = project_errors(body)
        if errors:
            raise TolokaValidationError(f"Invalid project: {format_errors(errors)}", errors)
        return Project.model_validate(self._create_once("/projects", body, idempotency_key, self._find_project))

    def get_project(self, project_id: str) -> Project:
        """Read a project."""
        return Project.model_validate(self.http.request("GET", f"/projects/{project_id}"))

    def create_pool(self, pool: dict[str, Any] | Pool, idempotency_key: str | None = None) -> Pool:
        """Validate the pool locally, then create it (exactly once per ``idempotency_key``).

        :raises TolokaValidationError: the pool is invalid; nothing was sent.
        """
        body = _as_body(pool)
        errors = pool_errors(body)
        if errors:
            raise TolokaValidationError(f"Invalid pool: {format_errors(errors)}", errors)
        body = Pool.model_validate(body).to_api()
        project_id = body["project_id"]
        found = self._create_once("/pools", body, idempotency_key, lambda key: self._find_pool(project_id, key))
        return Pool.model_validate(found)

    def get_pool(self, pool_id: str) -> Pool:
        """Read a pool."""
        return Pool.model_validate(self.http.request("GET", f"/pools/{pool_id}"))

    def open_pool(self, pool_id: str) -> Operation | None:
        """Start opening a pool: the POOL.OPEN operation, or None when it is already open."""
        answer = self.http.request("POST", f"/pools/{pool_id}/open", idempotent=True)
        return Operation.model_validate(answer) if answer else None

    def close_pool(self, pool_id: str) -> Operation | None:
        """Start closing a pool: the POOL.CLOSE operation, or None when it is already closed."""
        answer = self.http.request("POST", f"/pools/{pool_id}/close", idempotent=True)
        return Operation.model_validate(answer) if answer else None

    def _find_project(self, key: str) -> dict[str, Any] | None:
        # newest first: a retry looks for what its first try made minutes ago
        projects = self._iter_list("/projects", {}, 300, newest_first=True)
        return next((item for item in projects if _has_key(item, key)), None)

    def _find_pool(self, project_id: str, key: str) -> dict[str, Any] | None:
        return next(
            (item for item in self._iter_list("/pools", {"project_id": project_id}, 300) if _has_key(item, key)), None
        )

    def _create_once(
        self,
        path: str,
        body: dict[str, Any],
        key: str | None,
        find: Callable[[str], dict[str, Any] | None],
    ) -> dict[str, Any]:
        """POST a new object, never twice for the same key, even when an answer is lost."""
        if key is None:
            return self.http.request("POST", path, json_body=body)
        body = _with_key(body, key)
        existing = find(key)
        if existing is not None:
            self.log.info("Reusing %s %s created earlier for key %s", path.strip("/"), existing.get("id"), key)
            return existing
        attempts = self.config.retry.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self.http.request("POST", path, json_body=body)
            except (TolokaServerError, TolokaNetworkError) as exc:
                existing = find(key)
                if existing is not None:
                    return existing
                if attempt == attempts:
                    raise
                delay = self.config.retry.backoff(attempt)
                self.log.warning("POST %s failed (%s) and created nothing; retrying in %.1fs", path, exc, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    # --- operations ----------------------------------------------------------------------

    def get_operation(self, operation_id: str) -> Operation:
        """Read an operation."""
        return Operation.model_validate(self.http.request("GET", f"/operations/{operation_id}"))

    def get_operation_log(self, operation_id: str) -> list[dict[str, Any]]:
        """The per-item results of an operation."""
        return self.http.request("GET", f"/operations/{operation_id}/log") or []

    def poll_operations(self, tracker: OperationTracker) -> OperationTracker:
        """Read every pending operation of ``tracker`` once.

        :raises TolokaOperationFailedError: one ended FAIL; the message names its first item errors.
        """
        for operation_id in tracker.pending:
            tracker.update(self.get_operation(operation_id))
            if tracker.failed is not None:
                raise tracker.failure(self.get_operation_log(operation_id))
        return tracker

    def wait_operations(
        self, operation_ids: Iterable[str], timeout: float = 3600.0, poll_interval: float = 5.0
    ) -> OperationTracker:
        """Poll operations until all succeed; the returned tracker holds them and their totals.

        :param timeout: seconds to wait at most.
        :param poll_interval: the longest pause between polls (they start at a tenth of a second).
        :raises TolokaOperationFailedError: one ended FAIL.
        :raises TolokaOperationTimeoutError: some were still running after ``timeout``.
        """
        tracker = OperationTracker(list(operation_ids))
        started = time.monotonic()
        pause = min(0.1, poll_interval)
        while not self.poll_operations(tracker).done:
            remaining = started + timeout - time.monotonic()
            if remaining <= 0:
                raise tracker.timeout(timeout)
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, poll_interval)
        return tracker

    def wait_operation(self, operation_id: str, timeout: float = 3600.0, poll_interval: float = 5.0) -> Operation:
        """Poll one operation until it succeeds (see :meth:`wait_operations`)."""
        return self.wait_operations([operation_id], timeout, poll_interval).finished[operation_id]

    # --- listing -------------------------------------------------------------------------

    def _iter_list(
        self, path: str, params: dict[str, Any], page_size: int, newest_first: bool = False, cursor: str = "id"
    ) -> Iterator[dict[str, Any]]:
        """Stream a listing page by page, sorted by ``cursor`` (``id``, or ``task_id`` for aggregated solutions)."""
        last_id: str | None = None
        while True:
            query = {**params, "sort": f"-{cursor}" if newest_first else cursor, "limit": page_size}
            if last_id is not None:
                query[f"{cursor}_lt" if newest_first else f"{cursor}_gt"] = last_id
            page = self.http.request("GET", path, params=query)
            items = page.get("items") or []
            yield from items
            if not page.get("has_more") or not items:
                return
            last_id = items[-1][cursor]

    def iter_projects(self, page_size: int = 300, newest_first: bool = False, **filters: Any) -> Iterator[Project]:
        """All projects (optionally filtered, e.g. ``status="ACTIVE"``), paged by id."""
        items = self._iter_list("/projects", filters, page_size, newest_first)
        return (Project.model_validate(item) for item in items)

    def iter_pools(
        self, project_id: str | None = None, page_size: int = 300, newest_first: bool = False, **filters: Any
    ) -> Iterator[Pool]:
        """All pools (of one project, when given), paged by id."""
        params = {**filters, **({"project_id": project_id} if project_id else {})}
        return (Pool.model_validate(item) for item in self._iter_list("/pools", params, page_size, newest_first))

    def iter_tasks(self, pool_id: str, page_size: int = 10_000) -> Iterator[dict[str, Any]]:
        """All tasks of a pool, paged by id."""
        return self._iter_list("/tasks", {"pool_id": pool_id}, page_size)
