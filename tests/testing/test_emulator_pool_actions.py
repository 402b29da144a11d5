"""POST /pools/{id}/open and /close: 202 operations, 204 no-ops, 409 EMPTY_POOL."""

from __future__ import annotations

import time

import pytest
from emulator_helpers import Api, task

pytestmark = pytest.mark.toloka_emulator(operation_delay=0.3)


def finish(api: Api, operation: dict, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while operation["status"] not in ("SUCCESS", "FAIL"):
        assert time.monotonic() < deadline, operation
        time.sleep(0.02)
        operation = api.get(f"/operations/{operation['id']}").json()
    return operation


def test_open_and_close(api: Api) -> None:
    pool_id = api.pool()
    empty = api.post(f"/pools/{pool_id}/open")
    assert empty.status_code == 409
    assert empty.json()["code"] == "EMPTY_POOL"

    api.create("/tasks", [task(pool_id)])
    opening = api.post(f"/pools/{pool_id}/open")
    assert opening.status_code == 202
    assert opening.json()["type"] == "POOL.OPEN"
    assert opening.json()["parameters"] == {"pool_id": pool_id}
    assert api.get(f"/pools/{pool_id}").json()["status"] == "CLOSED"
    assert finish(api, opening.json())["status"] == "SUCCESS"
    assert api.get(f"/pools/{pool_id}").json()["status"] == "OPEN"

    again = api.post(f"/pools/{pool_id}/open")
    assert again.status_code == 204
    assert again.content == b""

    closing = api.post(f"/pools/{pool_id}/close")
    assert closing.status_code == 202
    assert closing.json()["type"] == "POOL.CLOSE"
    finish(api, closing.json())
    pool = api.get(f"/pools/{pool_id}").json()
    assert pool["status"] == "CLOSED"
    assert pool["last_close_reason"] == "MANUAL"
    assert api.post(f"/pools/{pool_id}/close").status_code == 204


def test_actions_on_missing_pool(api: Api) -> None:
    for action in ("open", "close"):
        response = api.post(f"/pools/31337/{action}")
        assert response.status_code == 404
        assert response.json()["code"] == "DOES_NOT_EXIST"


def test_pending_upload_leaves_pool_empty(api: Api) -> None:
    pool_id = api.pool()
    api.post("/tasks", json=[task(pool_id)], params={"async_mode": "true"})
    assert api.post(f"/pools/{pool_id}/open").json()["code"] == "EMPTY_POOL"
