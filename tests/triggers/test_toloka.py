"""TolokaOperationTrigger against the emulator: one event for success, FAIL, not found and timeout."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger


def _events(trigger: TolokaOperationTrigger) -> list[dict]:
    async def collect() -> list[dict]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(collect(), timeout=30))


def test_success_event_carries_the_totals(toloka_conn, client, pool_id):
    ids = client.create_tasks([{"image": f"https://example.com/{i}.jpg"} for i in range(3)], pool_id).operation_ids
    events = _events(TolokaOperationTrigger(ids, poll_interval=0.05))
    assert len(events) == 1
    assert events[0]["status"] == "success"
    assert events[0]["totals"]["success_count"] == 3 and events[0]["operation_ids"] == ids


def test_failed_operation_gives_a_failed_event_with_the_first_errors(toloka_conn, client, pool_id):
    ids = client.create_tasks([{"image": 1}], pool_id, validate=False).operation_ids
    (event,) = _events(TolokaOperationTrigger(ids, poll_interval=0.05))
    assert event["status"] == "failed"
    assert "failed_count=1" in event["message"] and "input_values.image" in event["message"]


def test_unknown_operation_gives_an_error_event(toloka_conn):
    (event,) = _events(TolokaOperationTrigger(["4a4f1d4e-0000-4000-8000-000000000000"], poll_interval=0.05))
    assert event["status"] == "error" and "DOES_NOT_EXIST" in event["message"]


def test_timeout_gives_a_timeout_event(slow_toloka_conn, shoes_project, shoes_pool):
    client = slow_toloka_conn
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    ids = client.create_tasks([{"image": "https://example.com/a.jpg"}], pool_id).operation_ids
    started = time.monotonic()
    (event,) = _events(TolokaOperationTrigger(ids, poll_interval=0.2, end_time=time.time() + 1))
    assert event["status"] == "timeout" and ids[0] in event["message"]
    assert 0.5 < time.monotonic() - started < 5


def test_bad_connection_gives_an_error_event_without_the_secret(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_TOLOKA_BROKEN", '{"conn_type": "toloka", "password": "s3cr3t-value", "host": "ftp://x"}'
    )
    (event,) = _events(TolokaOperationTrigger(["x"], toloka_conn_id="toloka_broken"))
    assert event["status"] == "error" and "Malformed" in event["message"] and "s3cr3t-value" not in event["message"]


def test_an_unreachable_api_is_waited_out_until_the_timeout(monkeypatch):
    """Network errors are transient: the trigger keeps polling (logging each) and ends only at its timeout."""
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra = {"max_attempts": 1, "connect_timeout": 0.5}
    monkeypatch.setenv(
        "AIRFLOW_CONN_TOLOKA_DOWN",
        f'{{"conn_type": "toloka", "password": "k", "host": "http://127.0.0.1:{port}", "extra": {json.dumps(extra)}}}',
    )
    started = time.monotonic()
    (event,) = _events(TolokaOperationTrigger(["op-1"], "toloka_down", poll_interval=0.2, end_time=time.time() + 1.5))
    assert event["status"] == "timeout" and "op-1" in event["message"]
    assert 1.0 < time.monotonic() - started < 10  # polled on through the errors, not an "error" event at once


@pytest.mark.toloka_emulator(operation_delay=2.0)
@pytest.mark.toloka_connection(backoff_base=0.01, max_attempts=2)
def test_the_trigger_rides_out_an_outage_and_succeeds_when_the_api_is_back(
    toloka_connection, make_client, shoes_project, shoes_pool
):
    """A wait outlives an outage of the API: the errors are polled through, not turned into a failure."""
    client = make_client(toloka_connection.url, toloka_connection.token)
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    ids = client.create_tasks([{"image": "https://example.com/a.jpg"}], pool_id).operation_ids
    toloka_connection.emulator.outage(3.0)  # the operation finishes (after 2 s) during the outage
    started = time.monotonic()
    (event,) = _events(TolokaOperationTrigger(ids, poll_interval=0.3))
    assert event["status"] == "success" and event["totals"]["success_count"] == 1, event
    assert time.monotonic() - started >= 2.5  # it waited through the outage
    assert toloka_connection.emulator.fault_counts["OUTAGE"] >= 2
