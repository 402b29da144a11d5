"""TolokaPoolSensor against the emulator: done on COMPLETED with no ACTIVE work, each bad close reason fails at once."""

from __future__ import annotations

import pytest
from airflow_context import make_context
from crowd_seed import add_answers, make_tasks, open_with_a_task, set_close_reason

from airflow_provider_toloka.client.pools import TolokaPoolClosedError
from airflow_provider_toloka.sensors.toloka import TolokaPoolSensor
from airflow_provider_toloka.triggers.toloka import TolokaPoolTrigger


def _sensor(pool_id: str, **kwargs) -> TolokaPoolSensor:
    kwargs = {"poke_interval": 0.05, "timeout": 20, "deferrable": False, **kwargs}
    return TolokaPoolSensor(task_id="wait_pool", pool_id=pool_id, **kwargs)


def test_done_when_completed_and_nothing_active_returns_a_summary(toloka_conn, emulator, client, pool_id, capsys):
    tasks = make_tasks(client, pool_id, 3)
    add_answers(emulator, pool_id, "a", tasks, ["boots"] * 3, status="ACCEPTED")
    active = add_answers(emulator, pool_id, "b", tasks, [], status="ACTIVE")
    set_close_reason(emulator, pool_id, "CLOSED", "COMPLETED")
    sensor = _sensor(pool_id)
    context = make_context()
    capsys.readouterr()
    assert sensor.poke(context) is False  # an ACTIVE assignment is still being done
    logged = capsys.readouterr().out
    assert "3 tasks, assignments: 0 submitted, 1 accepted, 0 rejected, 1 active; spent 0.03 = " in logged
    assert "reward 0.02 + fee 0.01 (30%) for 1 accepted assignment(s)" in logged
    assert "still ACTIVE" in logged
    with emulator.state.lock:
        emulator.state.assignments[active["id"]].update(status="SUBMITTED", solutions=[{"output_values": {}}] * 3)

    capsys.readouterr()
    summary = sensor.execute(context)
    spent = {"accepted_assignments": 1, "reward": 0.02, "fee_rate": 0.3, "fee": 0.006, "total": 0.026}
    assert summary == {
        "pool_id": pool_id,
        "status": "CLOSED",
        "last_close_reason": "COMPLETED",
        "tasks": 3,
        "assignments": {"ACCEPTED": 1, "SUBMITTED": 1},
        "spent": {**spent, "complete": True},
        "complete": True,
    }
    assert f"Pool {pool_id} is done (COMPLETED): spent 0.03 = reward 0.02 + fee 0.01 (30%)" in capsys.readouterr().out
    assert context["ti"].xcom["toloka_url"].endswith(f"/pool/{pool_id}")


@pytest.mark.parametrize("reason", ["NOT_ENOUGH_BALANCE", "BLOCKED", "ASSIGNMENTS_LIMIT_EXCEEDED", "EXPIRED", "MANUAL"])
def test_a_close_for_trouble_fails_at_once_naming_the_reason(toloka_conn, emulator, pool_id, reason):
    from airflow.providers.common.compat.sdk import AirflowFailException

    set_close_reason(emulator, pool_id, "CLOSED", reason)
    with pytest.raises(AirflowFailException, match=f"closed with reason {reason}") as failure:
        _sensor(pool_id, timeout=600).execute(make_context())
    assert isinstance(failure.value.__cause__, TolokaPoolClosedError)


@pytest.mark.parametrize("reason", ["EXPIRED", "MANUAL"])
def test_expired_and_manual_count_as_done_when_allowed(toloka_conn, emulator, pool_id, reason):
    set_close_reason(emulator, pool_id, "CLOSED", reason)
    sensor = _sensor(pool_id, done_close_reasons=["COMPLETED", reason], scan_limit=0)
    assert sensor.execute(make_context())["last_close_reason"] == reason


def test_a_manual_close_by_the_close_endpoint_fails_the_wait(toloka_conn, client, pool_id):
    from airflow.providers.common.compat.sdk import AirflowFailException

    open_with_a_task(client, pool_id)
    assert client.get_pool(pool_id).status == "OPEN"
    sensor = _sensor(pool_id)
    assert sensor.poke(make_context()) is False
    client.wait_operation(client.close_pool(pool_id).id, timeout=10)
    with pytest.raises(AirflowFailException, match="MANUAL"):
        sensor.poke(make_context())


def test_an_open_pool_times_out(toloka_conn, client, pool_id):
    from airflow.providers.common.compat.sdk import AirflowSensorTimeout

    open_with_a_task(client, pool_id)
    with pytest.raises(AirflowSensorTimeout):
        _sensor(pool_id, timeout=0.3, poke_interval=0.1).execute(make_context())


def test_bad_done_reasons_and_an_unknown_pool_fail_for_good(toloka_conn, pool_id):
    from airflow.providers.common.compat.sdk import AirflowFailException

    with pytest.raises(AirflowFailException, match="done close reasons"):
        _sensor(pool_id, done_close_reasons="BLOCKED").execute(make_context())
    with pytest.raises(AirflowFailException, match="DOES_NOT_EXIST"):
        _sensor("999999").execute(make_context())


def test_deferrable_sensor_polls_once_then_defers_with_a_serializable_trigger(toloka_conn, client, pool_id):
    from airflow.providers.common.compat.sdk import TaskDeferred

    open_with_a_task(client, pool_id)
    sensor = _sensor(pool_id, deferrable=True, poke_interval=30, timeout=3600, done_close_reasons="completed,")
    sensor.done_close_reasons = ["COMPLETED", "EXPIRED"]
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, TolokaPoolTrigger) and deferred.value.method_name == "execute_complete"
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_toloka.triggers.toloka.TolokaPoolTrigger"
    assert kwargs["pool_id"] == pool_id and kwargs["done_close_reasons"] == ["COMPLETED", "EXPIRED"]
    assert kwargs["poll_interval"] == 30
    assert TolokaPoolTrigger(**kwargs).serialize() == (path, kwargs)


def test_a_deferrable_sensor_on_a_done_pool_does_not_defer(toloka_conn, emulator, pool_id):
    set_close_reason(emulator, pool_id, "CLOSED", "COMPLETED")
    assert _sensor(pool_id, deferrable=True).execute(make_context())["status"] == "CLOSED"


def test_execute_complete_returns_the_summary_or_fails_with_the_message():
    from airflow.providers.common.compat.sdk import AirflowFailException

    sensor = _sensor("7")
    summary = {"pool_id": "7", "status": "CLOSED", "last_close_reason": "COMPLETED"}
    assert sensor.execute_complete(make_context(), {"status": "success", "pool_id": "7", "summary": summary}) == summary
    with pytest.raises(AirflowFailException, match="NOT_ENOUGH_BALANCE"):
        sensor.execute_complete(
            make_context(), {"status": "failed", "message": "closed with reason NOT_ENOUGH_BALANCE"}
        )


def test_templated_fields():
    assert {"pool_id", "done_close_reasons", "toloka_conn_id"} <= set(TolokaPoolSensor.template_fields)
