"""TolokaHook: connections from AIRFLOW_CONN_* env vars (JSON form), outside any task, against the emulator."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_toloka.client.async_client import AsyncTolokaClient
from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.errors import TolokaConfigError
from airflow_provider_toloka.hooks.toloka import TolokaHook
from airflow_provider_toloka.testing import TolokaEmulator

FAST_EXTRAS = {"max_attempts": 3, "backoff_base": 0.01, "max_retry_seconds": 10}

SetConnection = Callable[..., str]


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> SetConnection:
    """``set_connection(conn_id=None, **fields)``: define a connection as AIRFLOW_CONN_<ID> JSON; returns its id."""
    counter = iter(range(1000))

    def define(conn_id: str | None = None, **fields: Any) -> str:
        conn_id = conn_id or f"toloka_{request.node.name.split('[')[0][5:35]}_{next(counter)}".lower()
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "toloka", **fields}))
        return conn_id

    return define


def test_connection_from_env_json_with_host_override_and_oauth(
    emulator: TolokaEmulator, token: str, set_connection: SetConnection
) -> None:
    conn_id = set_connection(password=token, host=emulator.url, extra={"auth_scheme": "OAuth", **FAST_EXTRAS})
    hook = TolokaHook(conn_id)
    client = hook.client
    assert isinstance(client, TolokaClient)
    assert hook.get_conn() is client  # one client (one pooled session) per hook
    assert client.config.base_url == emulator.url
    assert client.config.auth_scheme == "OAuth"
    assert client.config.retry.max_attempts == 3
    assert client.config.retry.backoff_base == 0.01
    assert client.config.retry.max_total_seconds == 10
    assert client.get_requester()["id"] == "emulator-requester"


def test_api_key_scheme_is_the_default(emulator: TolokaEmulator, token: str, set_connection: SetConnection) -> None:
    conn_id = set_connection(password=token, host=emulator.url + "/api/v1/")
    hook = TolokaHook(toloka_conn_id=conn_id)
    assert hook.client.config.auth_scheme == "ApiKey"
    assert hook.client.config.base_url == emulator.url
    assert hook.test_connection()[0] is True


def test_host_and_port_fields(emulator: TolokaEmulator, token: str, set_connection: SetConnection) -> None:
    conn_id = set_connection(password=token, host="127.0.0.1", port=emulator.port, schema="http")
    hook = TolokaHook(conn_id)
    assert hook.client.config.base_url == f"http://127.0.0.1:{emulator.port}"
    assert hook.client.get_requester()["id"] == "emulator-requester"


@pytest.mark.parametrize(
    ("extra", "url"),
    [
        ({}, "https://sandbox.toloka.dev"),
        ({"environment": "sandbox"}, "https://sandbox.toloka.dev"),
        ({"environment": "production"}, "https://toloka.dev"),
        ({"environment": "PRODUCTION"}, "https://toloka.dev"),
        ({"extra__toloka__environment": "production"}, "https://toloka.dev"),
        ({"extra__toloka__environment": "production", "environment": ""}, "https://toloka.dev"),
        ({"environment": "production", "extra__toloka__environment": "sandbox"}, "https://toloka.dev"),
    ],
)
def test_environment_selects_the_url_without_host(set_connection: SetConnection, extra, url) -> None:
    hook = TolokaHook(set_connection(password="key", extra=extra))
    assert hook.client.config.base_url == url
    assert hook.client.config.api_url == url + "/api/v1"


def test_prefixed_extras(set_connection: SetConnection) -> None:
    extra = {
        "extra__toloka__auth_scheme": "OAuth",
        "extra__toloka__connect_timeout": "3.5",
        "extra__toloka__read_timeout": 42,
    }
    config = TolokaHook(set_connection(password="key", extra=extra)).client.config
    assert config.auth_scheme == "OAuth"
    assert config.timeout == (3.5, 42.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "key", "extra": {"environment": "staging"}}, "Unknown environment 'staging'"),
        ({"password": "key", "extra": {"auth_scheme": "Bearer"}}, "Unknown auth_scheme 'Bearer'"),
        ({"password": "key", "extra": {"connect_timeout": "soon"}}, "extra connect_timeout must be a number"),
        ({"password": "key", "extra": {"extra__toloka__max_attempts": "many"}}, "extra max_attempts must be a number"),
        ({"password": "key", "extra": {"read_timeout": "-5"}}, "read_timeout must be a positive number of seconds"),
        ({"extra": {"environment": "sandbox"}}, "API key is missing or empty"),
        ({"password": "   "}, "API key is missing or empty"),
        ({"password": "key", "host": "http://exa mple"}, "Malformed Toloka base URL"),
        ({"password": "key", "host": "ftp://x"}, "Malformed Toloka base URL"),
    ],
)
def test_bad_settings_name_the_connection(set_connection: SetConnection, fields, message) -> None:
    conn_id = set_connection(**fields)
    hook = TolokaHook(conn_id)
    with pytest.raises(TolokaConfigError) as caught:
        hook.get_conn()
    assert str(caught.value).startswith(f"Connection '{conn_id}': ")
    assert message in str(caught.value)
    ok, text = hook.test_connection()
    assert ok is False
    assert text.startswith("TolokaConfigError: The connection: ") and message in text  # no random form id


def test_missing_connection_is_named() -> None:
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    hook = TolokaHook("toloka_never_defined_anywhere")
    with pytest.raises(AirflowNotFoundException, match="toloka_never_defined_anywhere"):
        hook.get_conn()
    ok, text = hook.test_connection()
    assert ok is False
    assert text == "AirflowNotFoundException: The conn_id `toloka_never_defined_anywhere` isn't defined"


def test_test_connection(emulator: TolokaEmulator, token: str, set_connection: SetConnection) -> None:
    good = TolokaHook(set_connection(password=token, host=emulator.url, extra=FAST_EXTRAS))
    ok, text = good.test_connection()
    assert ok is True
    assert text == f"Connected to Toloka at {emulator.url} as requester emulator-requester"

    wrong = "wrong-hook-token-0e8b5d"
    bad = TolokaHook(set_connection(password=wrong, host=emulator.url, extra={"auth_scheme": "OAuth", **FAST_EXTRAS}))
    ok, text = bad.test_connection()
    assert ok is False
    assert text.startswith("TolokaAuthenticationError: GET /requester: HTTP 401 AUTHENTICATION_ERROR")
    assert "Check the connection's password" in text
    assert wrong not in text
    assert wrong not in repr(bad) and wrong not in repr(bad.client) and wrong not in repr(bad.client.config)
    assert token not in repr(good)


def test_test_connection_when_nothing_listens(set_connection: SetConnection) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "unreachable-token-77aa"
    hook = TolokaHook(set_connection(password=secret, host=f"http://127.0.0.1:{port}", extra=FAST_EXTRAS))
    ok, text = hook.test_connection()
    assert ok is False
    assert text.startswith("TolokaNetworkError: GET /requester: no answer from Toloka")
    assert secret not in text


def test_hook_client_round_trip(
    emulator: TolokaEmulator, token: str, set_connection: SetConnection, shoes_project, shoes_pool
) -> None:
    api = TolokaHook(set_connection(password=token, host=emulator.url, extra=FAST_EXTRAS)).client
    project = api.create_project(shoes_project, idempotency_key="hook-project")
    assert api.create_project(shoes_project, idempotency_key="hook-project").id == project.id
    assert api.get_project(project.id).public_name == "Categories of shoes"
    pool = api.create_pool(shoes_pool(project.id), idempotency_key="hook-pool")
    assert api.get_pool(pool.id).project_id == project.id
    assert project.id in [p.id for p in api.iter_projects(page_size=1)]
    assert [p.id for p in api.iter_pools(project.id, page_size=1)] == [pool.id]

    result = api.create_tasks([{"image": f"https://e/{i}.jpg"} for i in range(5)], pool.id, batch_size=2)
    operations = [api.wait_operation(op_id, timeout=10, poll_interval=0.05) for op_id in result.operation_ids]
    assert [operation.status for operation in operations] == ["SUCCESS"] * 3
    assert api.get_operation(result.operation_ids[0]).details.success_count == 2
    assert len(api.get_operation_log(result.operation_ids[2])) == 1
    assert [task["input_values"]["image"] for task in api.iter_tasks(pool.id, page_size=2)] == [
        f"https://e/{i}.jpg" for i in range(5)
    ]
    assert list(api.iter_assignments(pool.id)) == []

    opening = api.open_pool(pool.id)
    assert opening is not None and opening.type == "POOL.OPEN"
    api.wait_operation(opening.id, timeout=10, poll_interval=0.05)
    assert api.open_pool(pool.id) is None
    closing = api.close_pool(pool.id)
    assert closing is not None
    api.wait_operation(closing.id, timeout=10, poll_interval=0.05)
    assert api.get_pool(pool.id).status == "CLOSED"


def test_async_client_from_the_connection(
    emulator: TolokaEmulator, token: str, set_connection: SetConnection, client: TolokaClient, pool_id: str
) -> None:
    upload = client.create_tasks([{"image": "https://e/async.jpg"}], pool_id, wait=True)
    hook = TolokaHook(set_connection(password=token, host=emulator.url, extra={"auth_scheme": "OAuth", **FAST_EXTRAS}))

    async def read() -> tuple[Any, Any, str]:
        async_client = await hook.aget_client()
        async with async_client:
            operation = await async_client.get_operation(upload.operation_ids[0])
            pool = await async_client.get_pool(pool_id)
        return operation, pool, repr(async_client)

    operation, pool, text = asyncio.run(read())
    assert operation.status == "SUCCESS" and operation.details.success_count == 1
    assert pool.id == pool_id
    assert text == f"AsyncTolokaClient({emulator.url!r})" and token not in text


def test_async_client_config_errors_name_the_connection(set_connection: SetConnection) -> None:
    hook = TolokaHook(set_connection(password="key", extra={"environment": "moon"}))
    with pytest.raises(TolokaConfigError, match=r"Connection 'toloka_.*': Unknown environment 'moon'"):
        asyncio.run(hook.aget_client())


def test_async_client_type(set_connection: SetConnection) -> None:
    hook = TolokaHook(set_connection(password="key", extra={"environment": "production"}))

    async def build() -> str:
        async_client = await hook.aget_client()
        try:
            assert isinstance(async_client, AsyncTolokaClient)
            return async_client.config.base_url
        finally:
            await async_client.aclose()

    assert asyncio.run(build()) == "https://toloka.dev"


def test_ui_field_behaviour_and_identity() -> None:
    behaviour = TolokaHook.get_ui_field_behaviour()
    assert set(behaviour["hidden_fields"]) == {"schema", "port", "login"}
    assert behaviour["relabeling"]["password"] == "API key or OAuth token"
    assert TolokaHook.conn_type == "toloka" and TolokaHook.default_conn_name == "toloka_default"
    assert TolokaHook().toloka_conn_id == "toloka_default"
    assert repr(TolokaHook("x")) == "TolokaHook(toloka_conn_id='x')"
