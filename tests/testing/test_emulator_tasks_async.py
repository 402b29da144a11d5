"""POST /tasks in asynchronous mode: the TASK.BATCH_CREATE operation, its log, idempotency."""

from __future__ import annotations

import time
import uuid

import pytest
from emulator_helpers import Api, task

from airflow_provider_toloka.testing import TolokaEmulator

pytestmark = pytest.mark.toloka_emulator(operation_delay=0.3)

ASYNC = {"async_mode": "true"}


def wait_status(api: Api, operation_id: str, statuses: tuple[str, ...], timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        operation = api.get(f"/operations/{operation_id}").json()
        if operation["status"] in statuses:
            return operation
        time.sleep(0.02)
    raise AssertionError(f"operation {operation_id} never reached {statuses}")


def test_operation_lifecycle_and_details(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    operation_id = str(uuid.uuid4())
    params = {**ASYNC, "operation_id": operation_id, "skip_invalid_items": "true"}
    response = api.post("/tasks", json=[task(pool_id), task(pool_id, image=None), task(pool_id)], params=params)
    assert response.status_code == 201
    operation = response.json()
    assert operation["id"] == operation_id
    assert operation["type"] == "TASK.BATCH_CREATE"
    assert operation["status"] == "PENDING"
    assert operation["parameters"]["skip_invalid_items"] is True
    assert operation["parameters"] == {"allow_defaults": False, "skip_invalid_items": True, "open_pool": False}
    assert "details" not in operation  # the counts come with the finished operation
    assert api.get("/tasks", params={"pool_id": pool_id}).json()["items"] == []

    running = wait_status(api, operation_id, ("RUNNING",))
    assert "started" in running and "finished" not in running
    done = wait_status(api, operation_id, ("SUCCESS", "FAIL"))
    assert done["status"] == "SUCCESS"
    assert done["details"] == {
        "total_count": 3,
        "valid_count": 2,
        "not_valid_count": 1,
        "success_count": 2,
        "failed_count": 1,
    }
    assert done["submitted"] <= done["started"] <= done["finished"]
    listed = api.get("/tasks", params={"pool_id": pool_id}).json()["items"]
    assert len(listed) == 2

    log = api.get(f"/operations/{operation_id}/log").json()
    assert [line["success"] for line in log] == [True, False, True]
    assert [line["type"] for line in log] == ["TASK_CREATE", "TASK_VALIDATE", "TASK_CREATE"]
    # input echoes the item as sent, nothing added
    assert [line["input"] for line in log] == [task(pool_id), task(pool_id, image=None), task(pool_id)]
    assert [log[0]["output"]["task_id"], log[2]["output"]["task_id"]] == [t["id"] for t in listed]
    assert log[1]["output"]["input_values.image"]["code"] == "VALUE_REQUIRED"


@pytest.mark.toloka_emulator(operation_delay=0)
def test_async_without_skip_fails_and_creates_nothing(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=[task(pool_id), task(pool_id, image=1)], params=ASYNC)
    assert response.status_code == 201
    operation = api.get(f"/operations/{response.json()['id']}").json()
    assert operation["status"] == "FAIL"
    assert operation["details"] == {
        "total_count": 2,
        "valid_count": 1,
        "not_valid_count": 1,
        "success_count": 0,
        "failed_count": 2,
    }
    assert toloka_emulator.state.task_count(pool_id) == 0
    log = api.get(f"/operations/{operation['id']}/log").json()
    # a failed batch logs its invalid items only
    assert [(line["type"], line["success"], line["input"]) for line in log] == [
        ("TASK_VALIDATE", False, task(pool_id, image=1))
    ]
    assert log[0]["output"]["input_values.image"]["code"]


def test_operation_already_exists(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    operation_id = str(uuid.uuid4())
    params = {**ASYNC, "operation_id": operation_id}
    assert api.post("/tasks", json=[task(pool_id)] * 4, params=params).status_code == 201
    again = api.post("/tasks", json=[task(pool_id)] * 4, params=params)
    assert again.status_code == 409
    assert again.json()["code"] == "OPERATION_ALREADY_EXISTS"
    wait_status(api, operation_id, ("SUCCESS",))
    assert toloka_emulator.state.task_count(pool_id) == 4
    assert api.post("/tasks", json=[task(pool_id)], params=params).status_code == 409
    assert toloka_emulator.state.task_count(pool_id) == 4


def test_operation_id_must_be_uuid(api: Api) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=[task(pool_id)], params={**ASYNC, "operation_id": "not-a-uuid"})
    assert response.status_code == 400
    assert "operation_id" in response.json()["payload"]


@pytest.mark.toloka_emulator(operation_delay=0)
def test_open_pool_after_upload(api: Api) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=[task(pool_id)], params={**ASYNC, "open_pool": "true"})
    assert response.json()["status"] == "SUCCESS"
    assert api.get(f"/pools/{pool_id}").json()["status"] == "OPEN"


@pytest.mark.toloka_emulator(operation_delay=0)
def test_list_operations(api: Api) -> None:
    pool_id = api.pool()
    ids = [api.post("/tasks", json=[task(pool_id)], params=ASYNC).json()["id"] for _ in range(3)]
    listed = api.get("/operations", params={"type": "TASK.BATCH_CREATE", "status": "SUCCESS"}).json()
    assert sorted(op["id"] for op in listed["items"]) == sorted(ids)
    assert api.get("/operations", params={"type": "POOL.OPEN"}).json()["items"] == []
    page = api.get("/operations", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["has_more"] is True


@pytest.mark.toloka_emulator(operation_delay=0)
def test_async_request_limit(api: Api) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=[task(pool_id)] * 100_001, params=ASYNC)
    assert response.status_code == 413
    assert "100000" in response.json()["message"]


@pytest.mark.toloka_emulator(operation_delay=0)
def test_single_task_async_starts_an_operation(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    response = api.post("/tasks", json=task(pool_id, overlap=2), params=ASYNC)
    assert response.status_code == 201
    operation = response.json()
    assert operation["type"] == "TASK.BATCH_CREATE"
    done = api.get(f"/operations/{operation['id']}").json()
    assert done["status"] == "SUCCESS"
    assert done["details"]["success_count"] == 1
    log = api.get(f"/operations/{operation['id']}/log").json()
    created = api.get(f"/tasks/{log[0]['output']['task_id']}").json()
    assert (created["overlap"], created["remaining_overlap"]) == (2, 2)


@pytest.mark.toloka_emulator(operation_delay=0)
def test_client_tags_echoed_in_the_log_not_stored_and_unknown_fields_refused(api: Api) -> None:
    pool_id = api.pool()
    body = [task(pool_id, __item_idx="0"), task(pool_id, overlapp=3, __item_idx="1")]
    operation = api.post("/tasks", json=body, params={**ASYNC, "skip_invalid_items": "true"}).json()
    log = api.get(f"/operations/{operation['id']}/log").json()
    assert [line["input"] for line in log] == body
    assert log[1]["type"] == "TASK_VALIDATE"
    assert log[1]["output"] == {"overlapp": {"code": "VALUE_NOT_ALLOWED", "message": "Unknown field name"}}
    stored = api.get(f"/tasks/{log[0]['output']['task_id']}").json()
    assert "__item_idx" not in stored


def test_request_over_the_input_size_limit_is_413(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    big = "https://example.com/" + "x" * 300_000
    for params in ({}, ASYNC):
        response = api.post("/tasks", json=[task(pool_id, big)] * 4, params=params)
        assert response.status_code == 413, params
        assert response.json()["payload"]["input_values"]["code"] == "OBJECT_SIZE_BYTES_GREATER_THAN_MAX"
    assert api.post("/tasks", json=[task(pool_id, big)] * 3, params=ASYNC).status_code == 201
