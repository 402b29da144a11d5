"""Authentication with both schemes, and the token never leaking into reprs, errors or logs."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import Iterator

import pytest

from airflow_provider_toloka.client.async_client import AsyncTolokaClient
from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy
from airflow_provider_toloka.client.errors import (
    TolokaAuthenticationError,
    TolokaConfigError,
    TolokaError,
    TolokaNetworkError,
    TolokaValidationError,
)
from airflow_provider_toloka.testing import TolokaEmulator

RIGHT = "right-token-7d1e0b"
WRONG = "wrong-token-c4a9f2"


@pytest.fixture(scope="module")
def guarded() -> Iterator[TolokaEmulator]:
    with TolokaEmulator(token=RIGHT, operation_delay=0.02) as emulator:
        yield emulator


def everything_about(exc: BaseException) -> str:
    """str, repr and the formatted traceback with its whole chain of causes."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


@pytest.mark.parametrize("scheme", ["ApiKey", "OAuth"])
def test_both_auth_schemes_work(guarded: TolokaEmulator, make_client, scheme: str) -> None:
    client = make_client(guarded.url, token=RIGHT, auth_scheme=scheme)
    assert client.config.headers["Authorization"] == f"{scheme} {RIGHT}"
    assert client.get_requester()["id"] == "emulator-requester"

    async def read() -> str:
        async with AsyncTolokaClient(client.config) as async_client:
            return (await async_client.request("GET", "/requester"))["id"]

    assert asyncio.run(read()) == "emulator-requester"


@pytest.mark.parametrize("scheme", ["ApiKey", "OAuth"])
def test_wrong_token_is_an_authentication_error_with_a_hint(guarded: TolokaEmulator, make_client, scheme) -> None:
    client = make_client(guarded.url, token=WRONG, auth_scheme=scheme)
    with pytest.raises(TolokaAuthenticationError) as caught:
        client.get_requester()
    error = caught.value
    assert error.status == 401
    assert error.code == "AUTHENTICATION_ERROR"
    assert "GET /requester: HTTP 401 AUTHENTICATION_ERROR" in str(error)
    assert "Check the connection's password (the API key or OAuth token), its auth_scheme" in str(error)
    assert error.request_id and f"[request_id={error.request_id}]" in str(error)
    assert WRONG not in everything_about(error)


def test_wrong_token_on_writes_creates_nothing(guarded: TolokaEmulator, make_client, shoes_project) -> None:
    client = make_client(guarded.url, token=WRONG)
    with pytest.raises(TolokaAuthenticationError):
        client.create_project(shoes_project)
    with pytest.raises(TolokaAuthenticationError):
        client.create_project(shoes_project, idempotency_key="k")
    with pytest.raises(TolokaAuthenticationError):
        client.create_tasks([{"image": "https://e/1.jpg"}], "1")
    assert guarded.state.projects == {}


def test_wrong_token_async(guarded: TolokaEmulator) -> None:
    config = ClientConfig(token=WRONG, base_url=guarded.url, retry=RetryPolicy(backoff_base=0.01, backoff_max=0.05))

    async def read() -> None:
        async with AsyncTolokaClient(config) as client:
            await client.get_pool("1")

    with pytest.raises(TolokaAuthenticationError) as caught:
        asyncio.run(read())
    assert caught.value.path == "/pools/1"
    assert WRONG not in everything_about(caught.value)


def test_token_not_in_reprs() -> None:
    config = ClientConfig(token=WRONG, base_url="http://127.0.0.1:1", auth_scheme="OAuth")
    client = TolokaClient(config)
    async_client = AsyncTolokaClient(config)
    try:
        for text in (repr(config), str(config), repr(client), str(client), repr(client.http), repr(async_client)):
            assert WRONG not in text
        assert "http://127.0.0.1:1" in repr(client)
        assert "auth_scheme='OAuth'" in repr(config)
    finally:
        client.close()
        asyncio.run(async_client.aclose())


def test_token_not_in_errors(shoes_project) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    retry = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    client = TolokaClient(ClientConfig(token=WRONG, base_url=f"http://127.0.0.1:{port}", retry=retry))
    errors: list[TolokaError] = []
    with pytest.raises(TolokaNetworkError) as network:
        client.get_requester()
    errors.append(network.value)
    del shoes_project["public_name"]
    with pytest.raises(TolokaValidationError) as invalid:
        client.create_project(shoes_project)
    errors.append(invalid.value)
    with pytest.raises(TolokaValidationError) as bad_task:
        client._batcher("1", validate=False).check(["not a task"])
    errors.append(bad_task.value)
    for error in errors:
        assert WRONG not in everything_about(error)


def test_token_not_in_logs_of_a_run_with_retries(make_client, shoes_project, shoes_pool, caplog) -> None:
    with TolokaEmulator(token=RIGHT, fail_rate=0.4, seed=3, operation_delay=0.01, rps=200) as emulator:
        client = make_client(emulator.url, token=RIGHT, max_attempts=12)
        with caplog.at_level(logging.DEBUG):
            project = client.create_project(shoes_project, idempotency_key="log-run")
            pool = client.create_pool(shoes_pool(project.id), idempotency_key="log-run")
            client.create_tasks([{"image": f"https://e/{i}.jpg"} for i in range(50)], pool.id, batch_size=5, wait=True)
            with pytest.raises(TolokaAuthenticationError):
                make_client(emulator.url, token=WRONG).get_requester()
        assert sum(emulator.fault_counts.values()) >= 5
        assert "retrying in" in caplog.text  # the run did retry
        assert RIGHT not in caplog.text
        assert WRONG not in caplog.text
        for record in caplog.records:
            assert RIGHT not in str(record.args) and WRONG not in str(record.args)


def test_a_key_read_from_a_file_with_its_line_break_works(guarded: TolokaEmulator, make_client) -> None:
    client = make_client(guarded.url, token=RIGHT + "\n")  # as from $(cat keyfile)
    assert client.get_requester()["id"]


@pytest.mark.parametrize("key", ["abc\ndef-7d1e0b", "abc\r\n\tdef-7d1e0b", "abc def-7d1e0b", "abc\x00def-7d1e0b"])
def test_a_key_with_control_characters_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(TolokaConfigError, match="whitespace or control characters") as caught:
        ClientConfig(token=key, base_url="https://sandbox.toloka.dev")
    assert "def-7d1e0b" not in everything_about(caught.value)


@pytest.mark.parametrize("host", ["http://toloka.example.com", "http://10.1.2.3:8080"])
def test_plain_http_to_another_host_is_refused_unless_allowed(host: str) -> None:
    with pytest.raises(TolokaConfigError, match="unencrypted"):
        ClientConfig(token="k", base_url=host)
    assert ClientConfig(token="k", base_url=host, allow_insecure_http=True).base_url == host


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("localhost:8765", "http://localhost:8765"),
        ("toloka.example.com", "https://toloka.example.com"),
    ],
)
def test_a_host_without_a_scheme_is_http_only_on_this_machine(host: str, url: str) -> None:
    assert ClientConfig(token="k", base_url=host).base_url == url


def test_https_to_a_plain_http_server_is_one_clear_tls_error(guarded: TolokaEmulator, make_client) -> None:
    client = make_client(guarded.url.replace("http://", "https://"), token=RIGHT)
    with pytest.raises(TolokaNetworkError) as caught:
        client.get_requester()
    message = str(caught.value)
    assert "TLS handshake" in message and "http://" in message and "attempt" not in message
    assert "may or may not" not in message and RIGHT not in everything_about(caught.value)


def test_a_get_that_got_no_answer_does_not_claim_it_may_have_taken_effect(make_client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", max_attempts=2)
    with pytest.raises(TolokaNetworkError, match="after 2 attempt") as caught:
        client.get_requester()
    assert "may or may not" not in str(caught.value)


@pytest.mark.parametrize("attempts", [0, -1])
def test_max_attempts_below_one_is_a_config_error(attempts: int) -> None:
    with pytest.raises(TolokaConfigError, match="max_attempts must be a whole number of at least 1"):
        RetryPolicy(max_attempts=attempts)
