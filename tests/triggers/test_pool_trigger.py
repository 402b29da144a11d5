"""TolokaPoolTrigger against the emulator: one event when the pool is done, closes for trouble, or time runs out."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from crowd_seed import add_answers, make_tasks, open_with_a_task, set_close_reason

from airflow_provider_toloka.triggers.toloka import TolokaPoolTrigger


def _events(trigger: TolokaPoolTrigger) -> list[dict]:
    async def collect() -> list[dict]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(collect(), timeout=30))


def test_success_once_the_pool_completes_while_polling(toloka_conn, emulator, client, pool_id, capsys):
    tasks = make_tasks(client, pool_id, 2)
    add_answers(emulator, pool_id, "a", tasks, ["boots", "other"], status="ACCEPTED")
    open_with_a_task(client, pool_id)
    closer = threading.Timer(0.5, set_close_reason, (emulator, pool_id, "CLOSED", "COMPLETED"))
    closer.start()
    started = time.monotonic()
    try:
        (event,) = _events(TolokaPoolTrigger(pool_id, poll_interval=0.1))
    finally:
        closer.cancel()
    assert event["status"] == "success" and time.monotonic() - started >= 0.4
    assert event["summary"]["tasks"] == 3 and event["summary"]["assignments"] == {"ACCEPTED": 1}
    assert f"Pool {pool_id} is OPEN: 3 tasks" in capsys.readouterr().out


def test_failed_event_names_the_close_reason(toloka_conn, emulator, pool_id):
    set_close_reason(emulator, pool_id, "CLOSED", "NOT_ENOUGH_BALANCE")
    (event,) = _events(TolokaPoolTrigger(pool_id, poll_interval=0.05))
    assert event["status"] == "failed" and "NOT_ENOUGH_BALANCE" in event["message"]


def test_expired_is_done_only_when_allowed(toloka_conn, emulator, pool_id):
    set_close_reason(emulator, pool_id, "CLOSED", "EXPIRED")
    (event,) = _events(TolokaPoolTrigger(pool_id, poll_interval=0.05))
    assert event["status"] == "failed" and "EXPIRED" in event["message"]
    (event,) = _events(TolokaPoolTrigger(pool_id, poll_interval=0.05, done_close_reasons=["COMPLETED", "EXPIRED"]))
    assert event["status"] == "success" and event["summary"]["last_close_reason"] == "EXPIRED"


def test_timeout_and_unknown_pool(toloka_conn, client, pool_id):
    open_with_a_task(client, pool_id)
    (event,) = _events(TolokaPoolTrigger(pool_id, poll_interval=0.2, end_time=time.time() + 0.5))
    assert event["status"] == "timeout" and pool_id in event["message"]
    (event,) = _events(TolokaPoolTrigger("987654", poll_interval=0.05))
    assert event["status"] == "error" and "DOES_NOT_EXIST" in event["message"]


@pytest.mark.toloka_connection(backoff_base=0.01, max_attempts=2)
def test_the_pool_trigger_rides_out_an_outage(toloka_connection, make_client, shoes_project, shoes_pool, capsys):
    client = make_client(toloka_connection.url, toloka_connection.token)
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    set_close_reason(toloka_connection.emulator, pool_id, "CLOSED", "COMPLETED")
    toloka_connection.emulator.outage(1.5)
    started = time.monotonic()
    (event,) = _events(TolokaPoolTrigger(pool_id, poll_interval=0.3))
    assert event["status"] == "success", event
    assert time.monotonic() - started >= 1.0 and toloka_connection.emulator.fault_counts["OUTAGE"] >= 2
    assert "Toloka is not answering" in capsys.readouterr().out
