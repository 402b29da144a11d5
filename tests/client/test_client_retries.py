"""Retries and limits: 429 waits, quota intervals not waited, bounded network failures, unsafe POSTs."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_toloka.client.async_client import AsyncTolokaClient
from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy
from airflow_provider_toloka.client.errors import (
    TolokaApiError,
    TolokaNetworkError,
    TolokaRateLimitError,
    TolokaServerError,
)
from airflow_provider_toloka.client.retry import RetryState, parse_retry_after
from airflow_provider_toloka.testing import TolokaEmulator

FAST = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05, max_total_seconds=5.0)


class FakeApi:
    """A tiny HTTP server answering every request with the next scripted ``(status, headers, body)``."""

    def __init__(self, answers: list[tuple[int, dict[str, str], Any]]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                fake.requests.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, headers, body = fake.answers[min(len(fake.requests), len(fake.answers)) - 1]
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def too_many(interval: str | None, retry_after: str | None = "1") -> tuple[int, dict[str, str], Any]:
    payload = {"interval": interval} if interval else None
    headers = {"Retry-After": retry_after} if retry_after else {}
    body = {"request_id": "r-1", "code": "TOO_MANY_REQUESTS", "message": "Too many requests", "payload": payload}
    return 429, headers, body


def config(url: str, retry: RetryPolicy = FAST, **options: Any) -> ClientConfig:
    return ClientConfig(token="tok-retry-secret", base_url=url, retry=retry, **options)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (in the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(32)
        yield sock.getsockname()[1]


# --- 429 ----------------------------------------------------------------------------------


def test_task_quota_429_is_waited_out(make_client, shoes_project, shoes_pool, caplog) -> None:
    with TolokaEmulator(operation_delay=0.0, tasks_per_minute=300, quota_window=1.0) as emulator:
        client = make_client(emulator.url, token="any")
        project = client.create_project(shoes_project)
        pool = client.create_pool(shoes_pool(project.id))
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="airflow_provider_toloka"):
            result = client.create_tasks(
                [{"image": f"https://e/{i}.jpg"} for i in range(600)], pool.id, batch_size=100, wait=True
            )
        elapsed = time.monotonic() - started
        assert len(result.operation_ids) == 6
        assert all(operation.status == "SUCCESS" for operation in result.operations)
        assert emulator.state.task_count(pool.id) == 600
        assert re.search(r"POST /tasks answered 429; retrying in 1\.[0-9]s", caplog.text)
        assert 0.9 <= elapsed < 10


def test_requests_per_second_429_is_waited_out(make_client) -> None:
    with TolokaEmulator(rps=4) as emulator:
        client = make_client(emulator.url, token="any")
        started = time.monotonic()
        ids = [client.get_requester()["id"] for _ in range(6)]
        assert ids == ["emulator-requester"] * 6
        assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize("interval", ["HOUR", "DAY"])
def test_hour_and_day_quotas_are_not_waited(interval: str) -> None:
    from airflow_provider_toloka.client.client import TolokaClient

    with FakeApi([too_many(interval, "3600")]) as fake:
        client = TolokaClient(config(fake.url))
        started = time.monotonic()
        with pytest.raises(TolokaRateLimitError) as caught:
            client.get_requester()
        assert time.monotonic() - started < 1
        assert len(fake.requests) == 1
        assert caught.value.status == 429 and caught.value.payload == {"interval": interval}
        assert "wait for the quota interval to pass" in str(caught.value)

        async def read() -> None:
            async with AsyncTolokaClient(config(fake.url)) as async_client:
                await async_client.get_pool("1")

        with pytest.raises(TolokaRateLimitError):
            asyncio.run(read())
        assert len(fake.requests) == 2


def test_day_quota_stops_an_upload_saying_when_it_resets_and_what_was_sent(
    make_client, shoes_project, shoes_pool
) -> None:
    with TolokaEmulator(operation_delay=0.0, tasks_per_day=250, day_window=3600.0) as emulator:
        client = make_client(emulator.url, token="any")
        pool = client.create_pool(shoes_pool(client.create_project(shoes_project).id))
        started = time.monotonic()
        with pytest.raises(TolokaRateLimitError) as caught:
            client.create_tasks(
                [{"image": f"https://e/{i}.jpg"} for i in range(600)], pool.id, batch_size=100, idempotency_key="day"
            )
        assert time.monotonic() - started < 5  # not waited for
        assert caught.value.payload["interval"] == "DAY"
        message = str(caught.value)
        assert re.search(r"the DAY quota is used up, not waited for: it resets in 3[56][0-9]{2}s, at 20", message)
        assert "This upload had sent 200 task(s) in 2 operation(s) before" in message
        assert "same idempotency key" in message
        assert emulator.state.task_count(pool.id) == 200


def test_minute_quota_beyond_the_quota_wait_budget_gives_up() -> None:
    from airflow_provider_toloka.client.client import TolokaClient

    retry = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05, max_quota_wait_seconds=1.0)
    with FakeApi([too_many("MIN", "30")]) as fake:
        started = time.monotonic()
        with pytest.raises(TolokaRateLimitError, match=r"gave up: waiting for the quota would pass 1s in all"):
            TolokaClient(config(fake.url, retry)).get_requester()
        assert time.monotonic() - started < 1
        assert len(fake.requests) == 1


def test_quota_waits_do_not_use_up_the_failure_budget() -> None:
    """A request that waits out minute quotas longer than max_total_seconds still succeeds."""
    from airflow_provider_toloka.client.client import TolokaClient

    retry = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05, max_total_seconds=0.5)
    answers = [too_many("MIN", "0.3")] * 3 + [(200, {}, {"id": "me"})]
    with FakeApi(answers) as fake:
        started = time.monotonic()
        assert TolokaClient(config(fake.url, retry)).get_requester() == {"id": "me"}
        assert time.monotonic() - started > 0.9 and len(fake.requests) == 4


def test_quota_waits_are_spread_with_jitter() -> None:
    """Uploads that hit a quota together come back at different moments, never before Retry-After."""
    body = {"code": "TOO_MANY_REQUESTS", "payload": {"interval": "MIN"}}
    delays = [
        RetryState(RetryPolicy(), retry_unsafe=True).after_status(429, {"Retry-After": "10"}, body, "POST", "/tasks")
        for _ in range(50)
    ]
    assert all(10.0 <= delay <= 12.5 for delay in delays)
    assert len({round(delay, 3) for delay in delays}) > 40 and max(delays) - min(delays) > 1.0


def test_429_without_retry_after_backs_off_then_succeeds() -> None:
    from airflow_provider_toloka.client.client import TolokaClient

    answers = [too_many(None, None), too_many("MIN", None), (200, {}, {"id": "me"})]
    with FakeApi(answers) as fake:
        assert TolokaClient(config(fake.url)).get_requester() == {"id": "me"}
        assert len(fake.requests) == 3


def test_5xx_then_success_and_non_json_error_bodies() -> None:
    from airflow_provider_toloka.client.client import TolokaClient

    answers = [(502, {}, b"<html>bad gateway</html>"), (504, {}, b""), (200, {}, {"id": "me"})]
    with FakeApi(answers) as fake:
        assert TolokaClient(config(fake.url)).get_requester() == {"id": "me"}
        assert len(fake.requests) == 3
    with FakeApi([(502, {}, b"<html>bad gateway</html>")]) as fake:
        with pytest.raises(TolokaServerError) as caught:
            TolokaClient(config(fake.url)).get_requester()
        assert len(fake.requests) == FAST.max_attempts
        assert caught.value.status == 502
        assert "<html>bad gateway</html>" in str(caught.value)
    with FakeApi([(418, {}, {"code": "TEAPOT", "message": "short and stout"})]) as fake:
        with pytest.raises(TolokaApiError, match="HTTP 418 TEAPOT: short and stout"):
            TolokaClient(config(fake.url)).get_requester()
        assert len(fake.requests) == 1


def test_retry_after_parsing_and_backoff_bounds() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after(None) is None
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    for failures, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)]:
        delays = [policy.backoff(failures) for _ in range(50)]
        assert all(cap * 0.1 <= delay <= cap for delay in delays)
    state = RetryState(RetryPolicy(max_attempts=3), retry_unsafe=False)
    assert state.after_exception(sent=True) is None  # may have taken effect: never repeated
    assert state.after_exception(sent=False) is not None  # never sent: safe to repeat
    assert state.after_status(500, {}, {}, "POST", "/projects") is None
    assert state.after_status(400, {}, {}, "POST", "/projects") is None


# --- the network down ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_network_down_raises_after_bounded_retries(closed_port: int, method: str) -> None:
    from airflow_provider_toloka.client.http import HttpTransport

    transport = HttpTransport(config(f"http://127.0.0.1:{closed_port}"))
    started = time.monotonic()
    with pytest.raises(TolokaNetworkError) as caught:
        transport.request(method, "/projects", json_body={"x": 1} if method == "POST" else None)
    assert time.monotonic() - started < 2
    message = str(caught.value)
    # a refused connection never reached the server: even the POST is retried
    assert f"{method} /projects: no answer from Toloka at http://127.0.0.1:{closed_port} after 3 attempt(s)" in message
    assert "Check the connection's host/environment" in message


def test_network_down_async(closed_port: int) -> None:
    async def read() -> None:
        async with AsyncTolokaClient(config(f"http://127.0.0.1:{closed_port}")) as client:
            await client.get_operation("some-id")

    started = time.monotonic()
    with pytest.raises(TolokaNetworkError, match=r"GET /operations/some-id: no answer .* after 3 attempt\(s\)"):
        asyncio.run(read())
    assert time.monotonic() - started < 2


def test_a_silent_server_times_out_and_never_hangs(silent_port: int) -> None:
    from airflow_provider_toloka.client.http import HttpTransport

    transport = HttpTransport(config(f"http://127.0.0.1:{silent_port}", connect_timeout=0.5, read_timeout=0.2))
    started = time.monotonic()
    with pytest.raises(TolokaNetworkError, match=r"GET /requester: .* after 3 attempt\(s\) \(ReadTimeout\)"):
        transport.request("GET", "/requester")
    assert time.monotonic() - started < 3
    # a POST that may have reached the server is not repeated
    started = time.monotonic()
    with pytest.raises(TolokaNetworkError, match=r"after 1 attempt\(s\).*may or may not have taken effect"):
        transport.request("POST", "/projects", json_body={})
    assert time.monotonic() - started < 1.5


# --- POSTs that are not idempotent --------------------------------------------------------


@pytest.fixture
def scripted_faults(mocker):
    """An emulator whose faults are scripted: ``script(kinds)`` sets the fault of each next request."""
    with TolokaEmulator(operation_delay=0.0) as emulator:

        def script(kinds: list[str | None]) -> Any:
            return mocker.patch.object(emulator._injector, "draw", side_effect=kinds + [None] * 20)

        yield emulator, script


@pytest.mark.parametrize("fault", ["INTERNAL_ERROR", "REMOTE_SERVICE_UNAVAILABLE"])
def test_post_projects_without_key_is_not_retried_after_a_5xx(scripted_faults, make_client, shoes_project, fault):
    emulator, script = scripted_faults
    client = make_client(emulator.url, token="any")
    draw = script([fault])
    with pytest.raises(TolokaServerError) as caught:
        client.create_project(shoes_project)
    assert caught.value.status in (500, 503)
    assert draw.call_count == 1
    assert emulator.state.projects == {}


def test_post_projects_without_key_dropped_connection_is_reported_not_repeated(
    scripted_faults, make_client, shoes_project
) -> None:
    emulator, script = scripted_faults
    client = make_client(emulator.url, token="any")
    draw = script(["CONNECTION_DROPPED"])
    with pytest.raises(TolokaNetworkError, match="may or may not have taken effect"):
        client.create_project(shoes_project)
    assert draw.call_count == 1
    assert len(emulator.state.projects) == 1  # it did take effect: only an idempotency key makes a retry safe


@pytest.mark.parametrize("fault", ["INTERNAL_ERROR", "CONNECTION_DROPPED"])
def test_post_projects_with_key_is_retried_and_creates_one(scripted_faults, make_client, shoes_project, fault):
    emulator, script = scripted_faults
    client = make_client(emulator.url, token="any")
    # GET (find) ok, POST fails, GET (find) ok, then whatever is needed
    draw = script([None, fault])
    project = client.create_project(shoes_project, idempotency_key="retry-key")
    assert list(emulator.state.projects) == [project.id]
    assert draw.call_count == (4 if fault == "INTERNAL_ERROR" else 3)


def test_a_successful_answer_that_is_not_json_is_a_clear_error() -> None:
    from airflow_provider_toloka.client.client import TolokaClient

    with FakeApi([(200, {"Content-Type": "text/html"}, b"<html>captive portal</html>")]) as fake:
        with pytest.raises(TolokaApiError) as caught:
            TolokaClient(config(fake.url)).get_requester()
        assert caught.value.code == "INVALID_RESPONSE"
        assert "GET /requester: HTTP 200 INVALID_RESPONSE: the answer is not JSON ('<html>captive portal" in str(
            caught.value
        )
        assert "check that the connection's host is the Toloka API's base URL" in str(caught.value)

        async def read() -> None:
            async with AsyncTolokaClient(config(fake.url)) as client:
                await client.get_pool("1")

        with pytest.raises(TolokaApiError, match="GET /pools/1: HTTP 200 INVALID_RESPONSE"):
            asyncio.run(read())
