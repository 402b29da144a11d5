"""Spending safely, over HTTP against the emulator: the budget guard, dry runs, closing pools on kill."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow_context import make_context

from airflow_provider_toloka.client.cost import TolokaBudgetError
from airflow_provider_toloka.client.http import HttpTransport
from airflow_provider_toloka.operators.toloka import (
    COST_ESTIMATE_XCOM_KEY,
    TolokaCreatePoolOperator,
    TolokaCreateProjectOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor, TolokaPoolSensor
from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger, TolokaPoolTrigger

#: 30 tasks, overlap 3, 3 per suite, 0.02 per assignment, fee 30 %: 30 assignments, 0.78 in all.
TASKS = [{"input_values": {"image": f"https://example.com/shoes/{i}.jpg"}, "overlap": 3} for i in range(30)]
EXPECTED_TOTAL = 30 * 0.02 * 1.3


@pytest.fixture
def emulator_client(toloka_connection, make_client):
    """A client of this test's own emulator (``toloka_default`` points at it too)."""
    return make_client(toloka_connection.url)


@pytest.fixture
def loaded_pool(emulator_client, shoes_project, shoes_pool) -> str:
    """A closed pool of this test's emulator holding TASKS."""
    project = emulator_client.create_project(shoes_project)
    pool = emulator_client.create_pool(shoes_pool(project.id))
    upload = emulator_client.create_tasks(TASKS, pool.id)
    emulator_client.wait_operations(upload.operation_ids, timeout=30, poll_interval=0.1)
    return str(pool.id)


@pytest.fixture
def writes() -> Iterator[list[tuple[str, str]]]:
    """Every request other than GET that any client sends during the test, as (method, path)."""
    sent: list[tuple[str, str]] = []
    original = HttpTransport.request

    def recording(self: HttpTransport, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        if method != "GET":
            sent.append((method, path))
        return original(self, method, path, *args, **kwargs)

    HttpTransport.request = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        HttpTransport.request = original  # type: ignore[method-assign]


def _pool_opens(emulator, pool_id: str) -> list[Any]:
    operations = emulator.state.operations.values()
    return [op for op in operations if op.type == "POOL.OPEN" and op.parameters.get("pool_id") == pool_id]


def _refused(operator, context, match: str) -> TolokaBudgetError:
    from airflow.providers.common.compat.sdk import AirflowFailException

    with pytest.raises(AirflowFailException, match=match) as failure:
        operator.execute(context)
    assert isinstance(failure.value.__cause__, TolokaBudgetError)
    return failure.value.__cause__


def test_open_over_max_cost_fails_at_once_and_opens_nothing(toloka_connection, emulator_client, loaded_pool, writes):
    toloka_connection.emulator.state.requester["balance"] = 1000.0
    context = make_context(task_id="open_pool")
    operator = TolokaOpenPoolOperator(task_id="open_pool", pool_id=loaded_pool, max_cost="0.5")

    error = _refused(operator, context, r"estimate 0\.78, limit 0\.5, balance 1000\)")

    assert "over the limit max_cost=0.5" in str(error)
    assert emulator_client.get_pool(loaded_pool).status == "CLOSED"
    assert writes == [] and _pool_opens(toloka_connection.emulator, loaded_pool) == []
    assert context["ti"].xcom[COST_ESTIMATE_XCOM_KEY]["total"] == pytest.approx(EXPECTED_TOTAL)


def test_open_over_the_balance_fails_and_opens_nothing(toloka_connection, emulator_client, loaded_pool, writes):
    toloka_connection.emulator.state.requester["balance"] = 0.7
    operator = TolokaOpenPoolOperator(task_id="open_pool", pool_id=loaded_pool, max_cost=100)

    error = _refused(operator, make_context(), r"estimate 0\.78, limit 100, balance 0\.7\)")

    assert "over the requester's balance 0.7" in str(error)
    assert emulator_client.get_pool(loaded_pool).status == "CLOSED"
    assert writes == []


def test_open_within_budget_and_balance_opens_and_pushes_the_estimate(toloka_connection, emulator_client, loaded_pool):
    context = make_context(task_id="open_pool")
    # max_cost as a template renders it: text
    operator = TolokaOpenPoolOperator(
        task_id="open_pool", pool_id=loaded_pool, max_cost="0.78", fee_rate="0.3", deferrable=False
    )

    assert operator.execute(context) == loaded_pool

    assert emulator_client.get_pool(loaded_pool).status == "OPEN"
    estimate = context["ti"].xcom[COST_ESTIMATE_XCOM_KEY]
    balance = toloka_connection.emulator.state.requester["balance"]
    assert (estimate["assignments"], estimate["balance"]) == (30, balance)
    assert estimate["total"] == pytest.approx(EXPECTED_TOTAL)


def test_without_max_cost_nothing_is_estimated(emulator_client, loaded_pool, toloka_connection):
    toloka_connection.emulator.state.requester["balance"] = 0.0
    context = make_context()
    TolokaOpenPoolOperator(task_id="open_pool", pool_id=loaded_pool, deferrable=False).execute(context)

    assert emulator_client.get_pool(loaded_pool).status == "OPEN"
    assert COST_ESTIMATE_XCOM_KEY not in context["ti"].xcom


def _state_size(emulator) -> tuple[int, ...]:
    state = emulator.state
    return len(state.projects), len(state.pools), len(state.operations), len(list(state.tasks._all.ids))


def test_dry_runs_send_no_write_request(
    toloka_connection, emulator_client, loaded_pool, shoes_project, shoes_pool, writes, tmp_path, capsys
):
    emulator = toloka_connection.emulator
    before = _state_size(emulator)
    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text("".join(json.dumps({"image": f"https://example.com/{i}.jpg"}) + "\n" for i in range(7)))
    capsys.readouterr()

    project = TolokaCreateProjectOperator(task_id="p", project_config=shoes_project, dry_run=True)
    pool = TolokaCreatePoolOperator(task_id="q", pool_config=shoes_pool("x"), project_id=None, dry_run=True)
    upload_new = TolokaCreateTasksOperator(task_id="t", pool_id=None, tasks=str(tasks_file), dry_run=True)
    upload = TolokaCreateTasksOperator(task_id="u", pool_id=loaded_pool, tasks=str(tasks_file), dry_run=True)
    opening = TolokaOpenPoolOperator(task_id="o", pool_id=loaded_pool, dry_run=True)
    context = make_context()

    assert project.execute(context) is None
    assert pool.execute(context) is None
    assert upload_new.execute(context) == []
    assert upload.execute(context) == []
    assert opening.execute(context) == loaded_pool

    assert writes == []
    assert _state_size(emulator) == before
    assert emulator_client.get_pool(loaded_pool).status == "CLOSED"
    log = capsys.readouterr().out
    assert "Dry run: project 'Categories of shoes' is valid" in log
    assert "1,000 tasks: estimated cost 26.05" in log  # 334 suites x 3 x 0.02 x 1.3
    assert "7 task(s) from" in log
    assert f"pool {loaded_pool}: estimated cost 0.23" in log  # 7 tasks: 3 suites x 3 x 0.02 x 1.3 (default fee)
    assert context["ti"].xcom[COST_ESTIMATE_XCOM_KEY]["total"] == pytest.approx(EXPECTED_TOTAL)


def test_dry_run_open_still_refuses_what_the_real_open_would(toloka_connection, loaded_pool, writes):
    toloka_connection.emulator.state.requester["balance"] = 0.1
    operator = TolokaOpenPoolOperator(task_id="o", pool_id=loaded_pool, dry_run=True)
    _refused(operator, make_context(), r"balance 0\.1\)")
    assert writes == []


def test_dry_run_checks_the_project_locally(shoes_project, writes):
    from airflow.providers.common.compat.sdk import AirflowFailException

    del shoes_project["public_name"]
    with pytest.raises(AirflowFailException, match="public_name"):
        TolokaCreateProjectOperator(task_id="p", project_config=shoes_project, dry_run=True).execute(make_context())
    assert writes == []


def _status_once_settled(client, pool_id: str, expected: str, timeout: float = 10.0) -> str:
    """The pool's status once it is ``expected`` or ``timeout`` seconds have passed (closing is an operation)."""
    deadline = time.monotonic() + timeout
    status = client.get_pool(pool_id).status
    while status != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        status = client.get_pool(pool_id).status
    return status


@pytest.mark.parametrize("close_pool_on_kill", [True, False])
def test_open_pool_on_kill_closes_the_pool_only_when_asked(emulator_client, loaded_pool, close_pool_on_kill, writes):
    operator = TolokaOpenPoolOperator(
        task_id="o", pool_id=loaded_pool, close_pool_on_kill=close_pool_on_kill, deferrable=False
    )
    operator.execute(make_context())
    assert emulator_client.get_pool(loaded_pool).status == "OPEN"
    writes.clear()

    operator.on_kill()

    if close_pool_on_kill:
        assert writes == [("POST", f"/pools/{loaded_pool}/close")]
        assert _status_once_settled(emulator_client, loaded_pool, "CLOSED") == "CLOSED"
        assert emulator_client.get_pool(loaded_pool).last_close_reason == "MANUAL"
    else:
        assert writes == []
        assert emulator_client.get_pool(loaded_pool).status == "OPEN"


def test_kill_before_opening_closes_nothing(emulator_client, loaded_pool, writes):
    operator = TolokaOpenPoolOperator(task_id="o", pool_id=loaded_pool, close_pool_on_kill=True)
    operator.on_kill()
    assert writes == []


def _open(client, pool_id: str) -> str:
    """Open the pool and wait until it is open; returns the POOL.OPEN operation id."""
    operation = client.open_pool(pool_id)
    client.wait_operation(operation.id, timeout=30, poll_interval=0.05)
    return operation.id


@pytest.mark.parametrize("close_pool_on_kill", [True, False])
def test_pool_sensor_on_kill_closes_the_pool_only_when_asked(emulator_client, loaded_pool, close_pool_on_kill, writes):
    _open(emulator_client, loaded_pool)
    writes.clear()
    sensor = TolokaPoolSensor(task_id="wait", pool_id=loaded_pool, close_pool_on_kill=close_pool_on_kill)

    sensor.on_kill()

    expected = "CLOSED" if close_pool_on_kill else "OPEN"
    assert writes == ([("POST", f"/pools/{loaded_pool}/close")] if close_pool_on_kill else [])
    assert _status_once_settled(emulator_client, loaded_pool, expected) == expected


def test_operation_sensor_on_kill_closes_the_pools_its_open_operations_open(emulator_client, loaded_pool, writes):
    open_operation = _open(emulator_client, loaded_pool)
    upload_operations = [op["id"] for op in emulator_client.http.request("GET", "/operations")["items"]]
    upload_operations = [op for op in upload_operations if op != open_operation]
    writes.clear()

    TolokaOperationSensor(task_id="w", operation_ids=upload_operations, close_pool_on_kill=True).on_kill()
    assert writes == []  # no POOL.OPEN among them: nothing to close
    TolokaOperationSensor(task_id="w", operation_ids=[open_operation]).on_kill()
    assert writes == []  # off by default
    TolokaOperationSensor(task_id="w", operation_ids=[open_operation], close_pool_on_kill=True).on_kill()

    assert writes == [("POST", f"/pools/{loaded_pool}/close")]
    assert _status_once_settled(emulator_client, loaded_pool, "CLOSED") == "CLOSED"


def test_triggers_close_the_pool_on_kill_while_deferred(emulator_client, loaded_pool):
    import asyncio

    open_operation = _open(emulator_client, loaded_pool)
    pool_trigger = TolokaPoolTrigger(loaded_pool, close_pool_on_kill=True)
    assert pool_trigger.serialize()[1]["close_pool_on_kill"] is True
    asyncio.run(TolokaPoolTrigger(loaded_pool).on_kill())  # off by default
    assert emulator_client.get_pool(loaded_pool).status == "OPEN"

    asyncio.run(pool_trigger.on_kill())
    assert _status_once_settled(emulator_client, loaded_pool, "CLOSED") == "CLOSED"

    _open(emulator_client, loaded_pool)
    operation_trigger = TolokaOperationTrigger([open_operation], close_pool_on_kill=True)
    assert operation_trigger.serialize()[1]["close_pool_on_kill"] is True
    asyncio.run(operation_trigger.on_kill())
    assert _status_once_settled(emulator_client, loaded_pool, "CLOSED") == "CLOSED"


def test_deferred_open_hands_close_pool_on_kill_to_its_trigger(toloka_connection, loaded_pool):
    import dataclasses

    from airflow.providers.common.compat.sdk import TaskDeferred

    state = toloka_connection.emulator.state
    state.config = dataclasses.replace(state.config, operation_delay=30)  # POOL.OPEN now takes 30 s
    operator = TolokaOpenPoolOperator(task_id="o", pool_id=loaded_pool, close_pool_on_kill=True, deferrable=True)

    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context())

    trigger = deferred.value.trigger
    assert isinstance(trigger, TolokaOperationTrigger) and trigger.close_pool_on_kill is True
