"""Pools closing by themselves over real HTTP: COMPLETED (after the delay), EXPIRED, NOT_ENOUGH_BALANCE."""

from __future__ import annotations

import time

import pytest
from crowd_helpers import all_assignments, open_pool, wait_closed, wait_for
from emulator_helpers import Api

from airflow_provider_toloka.testing.timefmt import iso_utc, parse_time

FAST = {"simulate_tolokers": True, "toloker_speed": 200.0, "operation_delay": 0.0, "seed": 3}


@pytest.mark.toloka_emulator(**FAST)
def test_completed_after_the_close_delay(api: Api) -> None:
    pool_id = open_pool(api, 12, overlap=2, auto_close_after_complete_delay_seconds=1)
    pool = wait_closed(api, pool_id, 30)
    assert pool["last_close_reason"] == "COMPLETED"
    last_submitted = max(parse_time(item["submitted"]) for item in all_assignments(api, pool_id))
    assert parse_time(pool["last_stopped"]) - last_submitted == pytest.approx(1.0, abs=0.01)


@pytest.mark.toloka_emulator(**{**FAST, "toloker_speed": 0.5})
def test_expired_at_will_expire_with_work_left(api: Api) -> None:
    will_expire = iso_utc(time.time() + 1.5)
    pool_id = open_pool(api, 300, overlap=3, will_expire=will_expire)
    pool = wait_closed(api, pool_id, 10)
    assert pool["last_close_reason"] == "EXPIRED"
    assert pool["last_stopped"] == will_expire
    assert all(item["created"] < will_expire for item in all_assignments(api, pool_id))


def test_expired_without_a_crowd(api: Api) -> None:
    pool_id = open_pool(api, 3, will_expire=iso_utc(time.time() + 1.0))
    assert wait_closed(api, pool_id, 10)["last_close_reason"] == "EXPIRED"


@pytest.mark.toloka_emulator(**FAST, balance=0.1, fee_rate=0.25)
def test_not_enough_balance(api: Api) -> None:
    pool_id = open_pool(api, 60, overlap=3)
    pool = wait_closed(api, pool_id, 30)
    assert pool["last_close_reason"] == "NOT_ENOUGH_BALANCE"
    wait_for(lambda: all(item["status"] == "ACCEPTED" for item in all_assignments(api, pool_id)), 10)
    assert len(all_assignments(api, pool_id)) == 4  # 0.1 // (0.02 * 1.25): work in progress is paid for
    balance = api.get("/requester").json()["balance"]
    assert balance == pytest.approx(0.1 - 4 * 0.025)
    assert balance >= 0
