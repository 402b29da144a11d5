"""The results loop on the emulator's simulated crowd: wait for the pool, review, export, aggregate.

Pools close by themselves here (COMPLETED, EXPIRED, NOT_ENOUGH_BALANCE), and ``--fail-rate`` drops
and fails requests while the operators page, review and write.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from airflow_context import make_context

from airflow_provider_toloka.operators.results import (
    TolokaAggregateOperator,
    TolokaGetAssignmentsOperator,
    TolokaReviewAssignmentsOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaPoolSensor

CROWD = {"simulate_tolokers": True, "toloker_speed": 200.0, "operation_delay": 0.0, "seed": 5}


@pytest.fixture
def crowd_pool(toloka_connection, make_client, shoes_project, shoes_pool):
    """``make(count, open_pool=True, **pool_fields)``: a pool of ``count`` tasks at overlap 3.

    The crowd answers it once it is open.
    """
    client = make_client(toloka_connection.url, toloka_connection.token)

    def make(count: int, open_pool: bool = True, **pool_fields):
        project_id = client.create_project(shoes_project).id
        body = {**shoes_pool(project_id), "auto_accept_solutions": False, **pool_fields}
        pool_id = client.create_pool(body).id
        tasks = [{"input_values": {"image": f"https://example.com/{i}.jpg"}, "overlap": 3} for i in range(count)]
        client.create_tasks(tasks, pool_id, open_pool=open_pool, wait=True, wait_timeout=30)
        return client, pool_id

    return make


def _wait(pool_id: str, **kwargs):
    options = {"poke_interval": 0.2, "timeout": 60, "deferrable": False, "scan_limit": 10_000, **kwargs}
    return TolokaPoolSensor(task_id="wait", pool_id=pool_id, **options).execute(make_context())


@pytest.mark.toloka_emulator(**CROWD, toloker_accuracy=0.7)
def test_the_loop_labels_every_task_and_beats_the_tolokers_accuracy(toloka_connection, crowd_pool, tmp_path, capsys):
    client, pool_id = crowd_pool(150)
    summary = _wait(pool_id)
    assert (summary["last_close_reason"], summary["tasks"]) == ("COMPLETED", 150)
    assert summary["assignments"] == {"SUBMITTED": 150}  # 3 tasks a suite, overlap 3

    counts = TolokaReviewAssignmentsOperator(
        task_id="review", pool_id=pool_id, policy="majority", min_agreement=2, min_accuracy=0.6, per_toloker=True
    ).execute(make_context())
    assert counts["accepted"] + counts["rejected"] == 150 and counts["rejected"] > 0
    rejected = {a["user_id"] for a in client.iter_assignments(pool_id, "REJECTED")}
    accepted = {a["user_id"] for a in client.iter_assignments(pool_id, "ACCEPTED")}
    assert rejected and not rejected & accepted  # judged per toloker: all of a toloker's work, or none

    path = tmp_path / "labels.jsonl"
    result = TolokaAggregateOperator(
        task_id="aggregate", pool_id=pool_id, output_path=str(path), status=["SUBMITTED", "ACCEPTED", "REJECTED"]
    ).execute(make_context())
    assert (result["tasks"], result["answered"], result["unanswered"]) == (150, 150, 0)

    truth = requests.get(f"{toloka_connection.url}/_emulator/ground-truth", params={"pool_id": pool_id}, timeout=10)
    truth = truth.json()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    aggregated = sum(row["output_values"] == truth[row["task_id"]] for row in rows) / len(rows)
    answers = [
        solution["output_values"] == truth[task["id"]]
        for assignment in client.iter_assignments(pool_id)
        for task, solution in zip(assignment["tasks"], assignment["solutions"], strict=True)
    ]
    tolokers = sum(answers) / len(answers)
    with capsys.disabled():
        print(f"\n150 tasks, overlap 3: tolokers' accuracy {tolokers:.3f}, majority vote {aggregated:.3f}, {counts}")
    assert aggregated > tolokers, (aggregated, tolokers)
    assert 0.5 < tolokers < 0.9


@pytest.mark.toloka_emulator(**CROWD, balance=0.2)
def test_a_pool_that_runs_out_of_money_fails_the_wait_naming_the_reason(crowd_pool):
    from airflow.providers.common.compat.sdk import AirflowFailException

    _, pool_id = crowd_pool(60)
    with pytest.raises(AirflowFailException, match="NOT_ENOUGH_BALANCE: the account ran out of money"):
        _wait(pool_id)


@pytest.mark.toloka_emulator(**{**CROWD, "toloker_speed": 0.5, "toloker_count": 2})
def test_an_expired_pool_fails_unless_expired_is_allowed(crowd_pool):
    from airflow.providers.common.compat.sdk import AirflowFailException

    soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    _, pool_id = crowd_pool(30, will_expire=soon)
    with pytest.raises(AirflowFailException, match="closed with reason EXPIRED"):
        _wait(pool_id)
    summary = _wait(pool_id, done_close_reasons=["COMPLETED", "EXPIRED"])
    assert summary["last_close_reason"] == "EXPIRED" and "ACTIVE" not in summary["assignments"]


@pytest.mark.toloka_emulator(**CROWD)
@pytest.mark.toloka_connection(backoff_base=0.01, max_attempts=10)
def test_review_and_export_under_failing_requests_review_each_once_and_lose_or_repeat_no_row(
    toloka_connection, crowd_pool, tmp_path
):
    client, pool_id = crowd_pool(90)
    _wait(pool_id)
    submitted = {a["id"] for a in client.iter_assignments(pool_id, "SUBMITTED")}
    faults_before = sum(toloka_connection.emulator.fault_counts.values())
    set_fail_rate(toloka_connection.emulator, 0.3)

    counts = TolokaReviewAssignmentsOperator(task_id="review", pool_id=pool_id).execute(make_context())
    path = tmp_path / "all.jsonl"
    exported = TolokaGetAssignmentsOperator(
        task_id="export", pool_id=pool_id, output_path=str(path), page_size=7
    ).execute(make_context())

    set_fail_rate(toloka_connection.emulator, 0.0)
    assert sum(toloka_connection.emulator.fault_counts.values()) > faults_before
    assert counts["accepted"] + counts["already_reviewed"] == len(submitted) and counts["rejected"] == 0
    assert {a["status"] for a in client.iter_assignments(pool_id)} == {"ACCEPTED"}
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert exported["assignments"] == len(submitted) and len(rows) == exported["rows"] == 3 * len(submitted)
    assert len({(row["assignment_id"], row["task_id"]) for row in rows}) == len(rows)


def set_fail_rate(emulator, rate: float) -> None:
    """Change the running emulator's injected failure rate (set up the pool without faults, then fail)."""
    emulator._injector.fail_rate = rate


@pytest.fixture
def balance(toloka_connection, make_client):
    """``balance()``: the requester's balance now, by GET /requester."""
    client = make_client(toloka_connection.url, toloka_connection.token)
    return lambda: float(client.get_requester()["balance"])


@pytest.mark.toloka_emulator(**CROWD, fee_rate=0.25)
@pytest.mark.toloka_connection(fee_rate=0.25)
def test_the_sensor_reports_what_the_emulator_charged_reward_plus_fee(crowd_pool, balance, capsys):
    before = balance()
    _, pool_id = crowd_pool(30, auto_accept_solutions=True)
    capsys.readouterr()
    summary = _wait(pool_id)
    charged = before - balance()
    spent = summary["spent"]
    assert summary["assignments"] == {"ACCEPTED": 30} and spent["accepted_assignments"] == 30
    assert spent["total"] == pytest.approx(charged, abs=1e-6) and charged == pytest.approx(30 * 0.02 * 1.25)
    assert (spent["reward"], spent["fee"], spent["fee_rate"]) == (pytest.approx(0.6), pytest.approx(0.15), 0.25)
    assert f"Pool {pool_id} is done (COMPLETED): spent 0.75 = reward 0.60 + fee 0.15 (25%)" in capsys.readouterr().out


@pytest.mark.toloka_emulator(**CROWD)
def test_the_deferred_sensor_reports_the_same_spend_from_the_trigger_event(crowd_pool, balance, capsys):
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_toloka.triggers.toloka import TolokaPoolTrigger

    before = balance()
    client, pool_id = crowd_pool(30, open_pool=False, auto_accept_solutions=True)
    sensor = TolokaPoolSensor(task_id="wait", pool_id=pool_id, poke_interval=0.2, timeout=60, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())  # not opened yet: the wait goes to the trigger
    client.open_pool(pool_id)
    trigger = deferred.value.trigger
    assert isinstance(trigger, TolokaPoolTrigger) and trigger.serialize()[1]["fee_rate"] == 0.3

    async def first_event() -> dict:
        async for event in TolokaPoolTrigger(**trigger.serialize()[1]).run():
            return event.payload
        raise AssertionError("the trigger fired no event")

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=60))
    capsys.readouterr()
    summary = sensor.execute_complete(make_context(), event)
    charged = before - balance()
    assert summary["spent"]["total"] == pytest.approx(charged, abs=1e-6) == pytest.approx(30 * 0.02 * 1.3)
    assert (
        f"spent {charged:.2f} = reward 0.60 + fee 0.18 (30%) for 30 accepted assignment(s)" in capsys.readouterr().out
    )


@pytest.mark.toloka_emulator(**CROWD, toloker_accuracy=0.7)
def test_review_and_export_report_what_the_accepted_assignments_cost(crowd_pool, balance, tmp_path, capsys):
    _, pool_id = crowd_pool(60)
    assert _wait(pool_id)["spent"]["total"] == 0  # submitted, nothing accepted yet
    before = balance()
    capsys.readouterr()
    counts = TolokaReviewAssignmentsOperator(
        task_id="review", pool_id=pool_id, policy="majority", min_agreement=2, min_accuracy=0.6
    ).execute(make_context())
    charged = before - balance()
    spent = counts["spent"]
    assert 0 < counts["accepted"] == spent["accepted_assignments"] < 60 and counts["rejected"] > 0
    assert spent["total"] == pytest.approx(charged, abs=1e-6) == pytest.approx(counts["accepted"] * 0.02 * 1.3)
    assert f"Pool {pool_id}: spent {charged:.2f} = reward" in capsys.readouterr().out

    exported = TolokaGetAssignmentsOperator(
        task_id="export", pool_id=pool_id, output_path=str(tmp_path / "all.csv")
    ).execute(make_context())
    assert exported["spent"] == spent
    only_rejected = TolokaGetAssignmentsOperator(
        task_id="export_rejected", pool_id=pool_id, output_path=str(tmp_path / "rejected.csv"), status="REJECTED"
    ).execute(make_context())
    assert "spent" not in only_rejected
