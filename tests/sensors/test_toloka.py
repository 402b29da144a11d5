"""TolokaOperationSensor against the emulator: poking, deferring, failing fast."""

from __future__ import annotations

import pytest
from airflow_context import make_context

from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor
from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger


def _upload(client, pool_id: str, tasks: list, **options) -> list[str]:
    return client.create_tasks(tasks, pool_id, **options).operation_ids


def test_poke_mode_returns_the_summed_counts(toloka_conn, client, pool_id):
    ids = _upload(client, pool_id, [{"image": f"https://example.com/{i}.jpg"} for i in range(5)], batch_size=2)
    sensor = TolokaOperationSensor(task_id="wait", operation_ids=ids, poke_interval=0.05, timeout=20, deferrable=False)
    totals = sensor.execute(make_context())
    assert totals == {
        "total_count": 5,
        "valid_count": 5,
        "not_valid_count": 0,
        "success_count": 5,
        "failed_count": 0,
        "operations": 3,
    }


def test_a_failed_operation_fails_at_once_with_counts_and_first_errors(toloka_conn, client, pool_id):
    from airflow.providers.common.compat.sdk import AirflowFailException

    tasks = [{"image": "https://example.com/a.jpg"}, {"image": 42}]
    ids = _upload(client, pool_id, tasks, validate=False)
    sensor = TolokaOperationSensor(task_id="wait", operation_ids=ids[0], poke_interval=0.05, timeout=600)
    with pytest.raises(AirflowFailException) as failure:
        sensor.execute(make_context())
    message = str(failure.value)
    assert "not_valid_count=1" in message and "input_values.image" in message and ids[0] in message


def test_deferrable_sensor_defers_with_a_serializable_trigger(slow_toloka_conn, shoes_project, shoes_pool):
    from airflow.providers.common.compat.sdk import TaskDeferred

    client = slow_toloka_conn
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    ids = _upload(client, pool_id, [{"image": "https://example.com/a.jpg"}])
    sensor = TolokaOperationSensor(task_id="wait", operation_ids=ids, deferrable=True, poke_interval=3, timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, TolokaOperationTrigger)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_toloka.triggers.toloka.TolokaOperationTrigger"
    assert kwargs["operation_ids"] == ids and kwargs["poll_interval"] == 3
    assert TolokaOperationTrigger(**kwargs).serialize() == (path, kwargs)


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"status": "failed", "message": "Operation x failed: not_valid_count=1"}, "AirflowFailException"),
        ({"status": "timeout", "message": "still running"}, "AirflowSensorTimeout"),
        ({"status": "error", "message": "TolokaNotFoundError: nope"}, "AirflowFailException"),
        (None, "AirflowFailException"),
    ],
)
def test_execute_complete_fails_for_good_on_every_unsuccessful_event(event, error):
    """Failed, error and timeout events all fail without retries (AirflowSensorTimeout is not retried)."""
    sensor = TolokaOperationSensor(task_id="wait", operation_ids="x")
    with pytest.raises(Exception) as failure:
        sensor.execute_complete(make_context(), event)
    assert type(failure.value).__name__ == error
    if event:
        assert event["message"] in str(failure.value)


def test_execute_complete_returns_the_totals_of_a_success_event():
    totals = {"total_count": 3, "success_count": 3}
    event = {"status": "success", "totals": totals, "operation_ids": ["a"]}
    assert TolokaOperationSensor(task_id="wait", operation_ids="a").execute_complete(make_context(), event) == totals


def test_operation_ids_accept_a_rendered_json_list(toloka_conn, client, pool_id):
    ids = _upload(client, pool_id, [{"image": "https://example.com/a.jpg"}])
    client.wait_operation(ids[0], timeout=10)
    sensor = TolokaOperationSensor(task_id="wait", operation_ids=f'["{ids[0]}"]', poke_interval=0.05, timeout=10)
    assert sensor.execute(make_context())["success_count"] == 1


@pytest.mark.toloka_connection(backoff_base=0.01, max_attempts=1)
def test_a_poke_during_an_outage_waits_on_instead_of_failing(toloka_connection, make_client, shoes_project, shoes_pool):
    client = make_client(toloka_connection.url, toloka_connection.token)
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    ids = _upload(client, pool_id, [{"image": "https://example.com/a.jpg"}])
    sensor = TolokaOperationSensor(task_id="wait", operation_ids=ids, deferrable=False)
    toloka_connection.emulator.outage(30)
    assert sensor.poke(make_context()) is False  # a network error: poke again, not a failed task
    toloka_connection.emulator.outage(0)
    client.wait_operations(ids, timeout=10, poll_interval=0.05)
    assert sensor.poke(make_context()).xcom_value["success_count"] == 1
