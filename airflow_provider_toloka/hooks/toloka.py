"""TolokaHook: an Airflow connection turned into a configured Toloka client."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

if TYPE_CHECKING:
    from airflow.sdk.definitions.connection import Connection

    from airflow_provider_toloka.client.async_client import AsyncTolokaClient
    from airflow_provider_toloka.client.client import TolokaClient, UploadResult
    from airflow_provider_toloka.client.config import ClientConfig
    from airflow_provider_toloka.client.models import Operation, Pool, Project


def _extra(extras: dict[str, Any], name: str) -> Any:
    """An extra field, under its plain or its ``extra__toloka__`` form name."""
    value = extras.get(name)
    return value if value not in (None, "") else extras.get(f"extra__toloka__{name}")


def _base_url(conn: Connection) -> str | None:
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" not in host:
        host = f"{conn.schema or 'https'}://{host}"
    if conn.port and host.count(":") < 2:
        host = f"{host.rstrip('/')}:{conn.port}"
    return host


class TolokaHook(BaseHook):
    """Authenticated access to the Toloka API through an Airflow connection.

    The connection (type ``toloka``): password = API key or OAuth token; extra ``environment``
    = ``sandbox`` (default) or ``production``; extra ``auth_scheme`` = ``ApiKey`` (default) or
    ``OAuth``; host = a base URL override such as ``http://127.0.0.1:8765``. Optional extras:
    ``connect_timeout`` and ``read_timeout`` (seconds), ``max_attempts`` (attempts for one
    request), ``backoff_base`` (first backoff, seconds) and ``max_retry_seconds`` (retry budget).

    :param toloka_conn_id: the connection id.
    """

    conn_name_attr = "toloka_conn_id"
    default_conn_name = "toloka_default"
    conn_type = "toloka"
    hook_name = "Toloka"

    def __init__(self, toloka_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.toloka_conn_id = toloka_conn_id

    def __repr__(self) -> str:
        return f"TolokaHook(toloka_conn_id={self.toloka_conn_id!r})"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the connection form shows the standard fields."""
        from airflow_provider_toloka.get_provider_info import UI_FIELD_BEHAVIOUR

        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }

    @staticmethod
    def config_from_connection(conn: Connection) -> ClientConfig:
        """Build the client configuration from a connection, checking every setting.

        :raises TolokaConfigError: naming the setting to fix.
        """
        from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy
        from airflow_provider_toloka.client.errors import TolokaConfigError

        extras = conn.extra_dejson or {}
        numbers: dict[str, float] = {}
        for name in ("connect_timeout", "read_timeout", "max_attempts", "backoff_base", "max_retry_seconds"):
            value = _extra(extras, name)
            if value not in (None, ""):
                try:
                    numbers[name] = float(value)
                except (TypeError, ValueError):
                    raise TolokaConfigError(f"Connection {conn.conn_id!r}: extra {name} must be a number") from None
        retry = RetryPolicy(
            max_attempts=int(numbers.pop("max_attempts", RetryPolicy.max_attempts)),
            backoff_base=numbers.pop("backoff_base", RetryPolicy.backoff_base),
            max_total_seconds=numbers.pop("max_retry_seconds", RetryPolicy.max_total_seconds),
        )
        try:
            return ClientConfig.from_settings(
                token=conn.password,
                environment=_extra(extras, "environment"),
                url=_base_url(conn),
                auth_scheme=_extra(extras, "auth_scheme"),
                retry=retry,
                **numbers,
            )
        except TolokaConfigError as exc:
            raise TolokaConfigError(f"Connection {conn.conn_id!r}: {exc}") from None

    @cached_property
    def client(self) -> TolokaClient:
        """The configured client, built on first use (one pooled session per hook)."""
        from airflow_provider_toloka.client.client import TolokaClient

        config = self.config_from_connection(self.get_connection(self.toloka_conn_id))
        return TolokaClient(config, logger=self.log)

    def get_conn(self) -> TolokaClient:
        """The configured :class:`TolokaClient`."""
        return self.client

    async def aget_client(self) -> AsyncTolokaClient:
        """An async client for triggers; reads the connection with Airflow's async lookup."""
        from airflow_provider_toloka.client.async_client import AsyncTolokaClient

        conn = await self.aget_connection(self.toloka_conn_id)
        return AsyncTolokaClient(self.config_from_connection(conn), logger=self.log)

    def test_connection(self) -> tuple[bool, str]:
        """Check the key against the API, for the connection form's Test button."""
        try:
            requester = self.client.get_requester()
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, f"Connected to Toloka at {self.client.config.base_url} as requester {requester.get('id')}"

    # --- the API, through the client ------------------------------------------------------

    def create_project(self, project: dict[str, Any] | Project, idempotency_key: str | None = None) -> Project:
        """Validate locally and create a project (see :meth:`TolokaClient.create_project`)."""
        return self.client.create_project(project, idempotency_key=idempotency_key)

    def get_project(self, project_id: str) -> Project:
        """Read a project."""
        return self.client.get_project(project_id)

    def create_pool(self, pool: dict[str, Any] | Pool, idempotency_key: str | None = None) -> Pool:
        """Validate locally and create a pool (see :meth:`TolokaClient.create_pool`)."""
        return self.client.create_pool(pool, idempotency_key=idempotency_key)

    def get_pool(self, pool_id: str) -> Pool:
        """Read a pool."""
        return self.client.get_pool(pool_id)

    def open_pool(self, pool_id: str) -> Operation | None:
        """Start opening a pool; None when it is already open."""
        return self.client.open_pool(pool_id)

    def close_pool(self, pool_id: str) -> Operation | None:
        """Start closing a pool; None when it is already closed."""
        return self.client.close_pool(pool_id)

    def create_tasks(self, tasks: Iterable[Any], pool_id: str | None = None, **options: Any) -> UploadResult:
        """Stream tasks to the API in batches (see :meth:`TolokaClient.create_tasks`)."""
        return self.client.create_tasks(tasks, pool_id, **options)

    def get_operation(self, operation_id: str) -> Operation:
        """Read an operation."""
        return self.client.get_operation(operation_id)

    def get_operation_log(self, operation_id: str) -> list[dict[str, Any]]:
        """The per-item results of an operation."""
        return self.client.get_operation_log(operation_id)

    def wait_operation(self, operation_id: str, **options: Any) -> Operation:
        """Poll an operation until it finishes (see :meth:`TolokaClient.wait_operation`)."""
        return self.client.wait_operation(operation_id, **options)

    def iter_tasks(self, pool_id: str, page_size: int = 10_000) -> Iterator[dict[str, Any]]:
        """All tasks of a pool, paged."""
        return self.client.iter_tasks(pool_id, page_size)

    def iter_assignments(self, pool_id: str, status: str | None = None) -> Iterator[dict[str, Any]]:
        """All assignments of a pool, paged."""
        return self.client.iter_assignments(pool_id, status)
