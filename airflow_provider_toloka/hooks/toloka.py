"""TolokaHook: an Airflow connection turned into a configured Toloka client."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseHook

if TYPE_CHECKING:
    from airflow.sdk.definitions.connection import Connection

    from airflow_provider_toloka.client.async_client import AsyncTolokaClient
    from airflow_provider_toloka.client.client import TolokaClient
    from airflow_provider_toloka.client.config import ClientConfig
    from airflow_provider_toloka.client.cost import CostEstimate


def _extra(extras: dict[str, Any], name: str) -> Any:
    """An extra field, under its plain or its ``extra__toloka__`` form name."""
    value = extras.get(name)
    return value if value not in (None, "") else extras.get(f"extra__toloka__{name}")


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on") if value is not None else False


def _base_url(conn: Connection) -> str | None:
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" not in host and conn.schema:
        host = f"{conn.schema}://{host}"
    if conn.port and host.count(":") < (2 if "://" in host else 1):
        host = f"{host.rstrip('/')}:{conn.port}"
    return host


class TolokaHook(BaseHook):
    """Authenticated access to the Toloka API through an Airflow connection.

    The hook turns the connection into a configured client; call the API through it, as in
    ``TolokaHook().client.create_project(...)`` (see :class:`TolokaClient`), or, in a trigger,
    ``await TolokaHook().aget_client()``.

    The connection (type ``toloka``): password = API key or OAuth token; extra ``environment``
    = ``sandbox`` (default) or ``production``; extra ``auth_scheme`` = ``ApiKey`` (default) or
    ``OAuth``; host = a base URL override such as ``http://127.0.0.1:8765``. Optional extras:
    ``connect_timeout`` and ``read_timeout`` (seconds), ``max_attempts`` (attempts for one
    request), ``backoff_base`` (first backoff, seconds), ``max_retry_seconds`` (retry budget of failures),
    ``max_quota_wait`` (seconds one request may wait out minute quotas),
    ``allow_insecure_http`` (plain http:// to a host other than this machine) and ``fee_rate``
    (the platform fee as a fraction of the reward, for cost estimates; default 0.3).

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

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The connection form's extra fields, for Airflow 3.1 (3.2+ reads ``conn-fields`` instead).

        Airflow 3.1 calls this (and ``get_ui_field_behaviour``) only where wtforms is installed, as
        it is with the FAB provider; without it the form shows the generic fields.
        """
        from wtforms import IntegerField, StringField
        from wtforms.validators import Optional, any_of

        from airflow_provider_toloka.get_provider_info import CONN_FIELDS

        widgets: dict[str, Any] = {}
        for name, field in CONN_FIELDS.items():
            schema = field["schema"]
            validators: list[Any] = [Optional()]
            if "enum" in schema:
                validators.append(any_of(schema["enum"]))
            field_class = IntegerField if "number" in schema["type"] else StringField
            widgets[name] = field_class(
                field["label"],
                validators=validators,
                description=field.get("description", ""),
                default=schema["default"],
            )
        return widgets

    @staticmethod
    def config_from_connection(
        conn: Connection, name: str | None = None, extras: dict[str, Any] | None = None
    ) -> ClientConfig:
        """Build the client configuration from a connection, checking every setting.

        :param name: how messages name the connection (default: ``Connection '<its id>'``).
        :param extras: the connection's extra, when already read (in async code); else ``conn.extra_dejson``.
        :raises TolokaConfigError: naming the setting to fix.
        """
        label = f"{name}: " if name else f"Connection {conn.conn_id!r}: "
        from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy
        from airflow_provider_toloka.client.errors import TolokaConfigError

        extras = (conn.extra_dejson if extras is None else extras) or {}
        numbers: dict[str, float] = {}
        settings = (
            "connect_timeout",
            "read_timeout",
            "max_attempts",
            "backoff_base",
            "max_retry_seconds",
            "max_quota_wait",
        )
        for setting in settings:
            value = _extra(extras, setting)
            if value not in (None, ""):
                try:
                    numbers[setting] = float(value)
                except (TypeError, ValueError):
                    raise TolokaConfigError(f"{label}extra {setting} must be a number") from None
        try:
            attempts = numbers.pop("max_attempts", RetryPolicy.max_attempts)
            retry = RetryPolicy(
                max_attempts=int(attempts) if float(attempts).is_integer() else attempts,  # type: ignore[arg-type]
                backoff_base=numbers.pop("backoff_base", RetryPolicy.backoff_base),
                max_total_seconds=numbers.pop("max_retry_seconds", RetryPolicy.max_total_seconds),
                max_quota_wait_seconds=numbers.pop("max_quota_wait", RetryPolicy.max_quota_wait_seconds),
            )
            return ClientConfig.from_settings(
                token=conn.password,
                environment=_extra(extras, "environment"),
                url=_base_url(conn),
                auth_scheme=_extra(extras, "auth_scheme"),
                retry=retry,
                allow_insecure_http=_flag(_extra(extras, "allow_insecure_http")),
                **numbers,
            )
        except TolokaConfigError as exc:
            raise TolokaConfigError(f"{label}{exc}") from None

    @cached_property
    def client(self) -> TolokaClient:
        """The configured client, built on first use (one pooled session per hook)."""
        from airflow_provider_toloka.client.client import TolokaClient

        config = self.config_from_connection(self.get_connection(self.toloka_conn_id))
        return TolokaClient(config, logger=self.log)

    def estimate_pool_cost(
        self, pool_id: str, *, fee_rate: float | str | None = None, remaining: bool = True
    ) -> CostEstimate:
        """What a pool's tasks cost, or still have to cost (see :mod:`airflow_provider_toloka.client.cost`).

        :param fee_rate: the platform fee rate (default: the connection extra ``fee_rate``, else 0.3).
        :param remaining: what an open pool still has to spend (default), or the whole pool.
        """
        from airflow_provider_toloka.client.cost import estimate_pool_cost

        rate = self.fee_rate if fee_rate is None else fee_rate
        return estimate_pool_cost(self.client, pool_id, fee_rate=rate, remaining=remaining)

    @cached_property
    def fee_rate(self) -> float:
        """The platform fee rate of cost estimates: the connection extra ``fee_rate``, else 0.3."""
        from airflow_provider_toloka.client.cost import fee_rate_of

        return fee_rate_of(_extra(self.get_connection(self.toloka_conn_id).extra_dejson or {}, "fee_rate"))

    def get_conn(self) -> TolokaClient:
        """The configured :class:`TolokaClient`."""
        return self.client

    async def aget_client(self) -> AsyncTolokaClient:
        """An async client for triggers; reads the connection with Airflow's async lookup."""
        from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

        from airflow_provider_toloka.client.async_client import AsyncTolokaClient

        # Airflow's own async lookup, where it is safe on the event loop; a worker thread before 3.3.2
        conn = await get_async_connection(self.toloka_conn_id, hook=self)
        extras = await get_async_extra_dejson(conn)
        return AsyncTolokaClient(self.config_from_connection(conn, extras=extras), logger=self.log)

    def test_connection(self) -> tuple[bool, str]:
        """Check the key against the API, for the connection form's Test button and ``airflow connections test``.

        Answers within seconds: one retry, short timeouts. Messages do not name the connection
        id (the form tests an unsaved copy under a random id).
        """
        import dataclasses

        from airflow_provider_toloka.client.client import TolokaClient

        try:
            config = self.config_from_connection(self.get_connection(self.toloka_conn_id), name="The connection")
            config = dataclasses.replace(
                config,
                connect_timeout=min(config.connect_timeout, 5.0),
                read_timeout=min(config.read_timeout, 15.0),
                retry=dataclasses.replace(config.retry, max_attempts=2, backoff_base=0.2, max_total_seconds=10.0),
            )
            client = TolokaClient(config, logger=self.log)
            try:
                requester = client.get_requester()
            finally:
                client.close()
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, f"Connected to Toloka at {config.base_url} as requester {requester.get('id')}"
