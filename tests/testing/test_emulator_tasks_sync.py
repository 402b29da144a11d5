"""POST /tasks in synchronous mode, GET /tasks/{id}."""

from __future__ import annotations

import time

import pytest
from emulator_helpers import Api, task

from airflow_provider_toloka.testing import TolokaEmulator


def test_sync_items_keyed_by_index_with_validation_errors(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    body = [task(pool_id, overlap=2), task(pool_id, image=None), task(pool_id, image=7), task("999999")]
    response = api.post("/tasks", json=body, params={"skip_invalid_items": "true"})
    assert response.status_code == 201
    answer = response.json()
    assert list(answer["items"]) == ["0"]
    created = answer["items"]["0"]
    assert created["pool_id"] == pool_id
    assert created["overlap"] == 2
    assert created["input_values"] == {"image": "https://example.com/1.jpg"}
    assert created["id"] and created["created"]
    # the task view: the API's fixed field set with its defaults
    assert {key: value for key, value in created.items() if key not in ("id", "created")} == {
        "pool_id": pool_id,
        "input_values": {"image": "https://example.com/1.jpg"},
        "overlap": 2,
        "infinite_overlap": False,
        "remaining_overlap": 2,
        "reserved_for": [],
        "unavailable_for": [],
    }
    errors = answer["validation_errors"]
    assert set(errors) == {"1", "2", "3"}
    assert errors["1"]["input_values.image"] == {
        "code": "VALUE_REQUIRED",
        "message": "Value must be present and not equal to null",
    }
    # the type code comes from the shared validator (client/validation.py)
    assert errors["2"]["input_values.image"]["code"] in ("INVALID_TYPE", "STRING_EXPECTED")
    assert errors["3"]["pool_id"]["code"] == "ENTITY_DOES_NOT_EXIST"
    assert api.get(f"/tasks/{created['id']}").json() == created
    assert toloka_emulator.state.task_count(pool_id) == 1


def test_sync_without_skip_creates_nothing_on_invalid_item(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=[task(pool_id), task(pool_id, image=None)])
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "VALIDATION_ERROR"
    assert list(error["payload"]) == ["1"]
    assert error["payload"]["1"]["input_values.image"]["code"] == "VALUE_REQUIRED"
    assert toloka_emulator.state.task_count(pool_id) == 0
    body = [task(pool_id), task(pool_id, image=None)]
    skipped = api.post("/tasks", json=body, params={"skip_invalid_items": "false"})
    assert skipped.status_code == 400
    assert toloka_emulator.state.task_count(pool_id) == 0


def test_overlap_defaults_from_pool(api: Api) -> None:
    suites_default = api.pool(defaults={"default_overlap_for_new_task_suites": 3})
    tasks_default = api.pool(defaults={"default_overlap_for_new_tasks": 5, "default_overlap_for_new_task_suites": 3})
    body = [task(suites_default, overlap=2), task(tasks_default), task(tasks_default, overlap=4)]
    items = api.create("/tasks", body)
    assert [items["items"][str(i)]["overlap"] for i in range(3)] == [2, 5, 4]
    # allow_defaults=true: the task-suite default serves when the pool has no task default
    allowed = api.create("/tasks", [task(suites_default)], params={"allow_defaults": "true"})
    assert allowed["items"]["0"]["overlap"] == 3


@pytest.mark.parametrize("async_mode", ["false", "true"])
def test_overlap_required_without_allow_defaults(api: Api, toloka_emulator: TolokaEmulator, async_mode: str) -> None:
    suites_default = api.pool(defaults={"default_overlap_for_new_task_suites": 3})
    params = {"async_mode": async_mode, "allow_defaults": "false", "skip_invalid_items": "true"}
    response = api.post("/tasks", json=[task(suites_default, overlap=2), task(suites_default)], params=params)
    assert response.status_code == 201
    if async_mode == "false":
        errors = response.json()["validation_errors"]
    else:
        operation_id = response.json()["id"]
        deadline = time.monotonic() + 10
        while api.get(f"/operations/{operation_id}").json()["status"] not in ("SUCCESS", "FAIL"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        log = api.get(f"/operations/{operation_id}/log").json()
        errors = {str(i): line["output"] for i, line in enumerate(log) if not line["success"]}
    assert list(errors) == ["1"]
    assert errors["1"]["overlap"]["code"] == "VALUE_REQUIRED"
    assert toloka_emulator.state.task_count(suites_default) == 1


def test_single_task_object(api: Api) -> None:
    pool_id = api.pool()
    created = api.create("/tasks", task(pool_id, unavailable_for=["u1"]))
    assert created["pool_id"] == pool_id
    assert created["unavailable_for"] == ["u1"]
    assert created["overlap"] == 1
    invalid = api.post("/tasks", json=task(pool_id, image=None))
    assert invalid.status_code == 400
    assert invalid.json()["payload"] == {
        "input_values.image": {"code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null"}
    }


def test_sync_request_limit(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=[task(pool_id)] * 5001)
    assert response.status_code == 413
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "5000" in response.json()["message"]
    assert toloka_emulator.state.task_count(pool_id) == 0
    assert len(api.create("/tasks", [task(pool_id)] * 5000)["items"]) == 5000


def test_bad_boolean_parameter(api: Api) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=[task(pool_id)], params={"async_mode": "maybe"})
    assert response.status_code == 400
    assert "async_mode" in response.json()["payload"]
