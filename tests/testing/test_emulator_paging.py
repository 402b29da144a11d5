"""GET /tasks paging: sort by id, id_gt, has_more, limits; GET /assignments."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, task

from airflow_provider_toloka.testing import TolokaEmulator

pytestmark = pytest.mark.toloka_emulator(operation_delay=0)


def upload(api: Api, pool_id: str, count: int) -> None:
    response = api.post(
        "/tasks",
        json=[task(pool_id, image=f"https://example.com/{n}.jpg") for n in range(count)],
        params={"async_mode": "true"},
    )
    assert response.json()["status"] == "SUCCESS"


def test_page_through_tasks_with_id_gt(api: Api) -> None:
    pool_id, other_pool = api.pool(), api.pool()
    upload(api, pool_id, 120)
    upload(api, other_pool, 30)
    upload(api, pool_id, 130)
    seen: list[dict] = []
    last_id = None
    pages = 0
    while True:
        params = {"pool_id": pool_id, "sort": "id", "limit": 100}
        if last_id:
            params["id_gt"] = last_id
        page = api.get("/tasks", params=params).json()
        pages += 1
        seen += page["items"]
        if not page["has_more"]:
            break
        last_id = page["items"][-1]["id"]
    assert pages == 3
    assert len(seen) == 250
    ids = [t["id"] for t in seen]
    assert ids == sorted(ids) and len(set(ids)) == 250
    assert {t["pool_id"] for t in seen} == {pool_id}
    images = [t["input_values"]["image"] for t in seen]
    assert images[:120] == [f"https://example.com/{n}.jpg" for n in range(120)]


def test_exact_last_page_has_no_more(api: Api) -> None:
    pool_id = api.pool()
    upload(api, pool_id, 10)
    page = api.get("/tasks", params={"pool_id": pool_id, "limit": 10}).json()
    assert len(page["items"]) == 10 and page["has_more"] is False
    first = api.get("/tasks", params={"pool_id": pool_id, "limit": 9}).json()
    assert first["has_more"] is True
    tail = api.get("/tasks", params={"pool_id": pool_id, "id_gt": first["items"][-1]["id"]}).json()
    assert len(tail["items"]) == 1 and tail["has_more"] is False


def test_default_limit_descending_and_bounds(api: Api) -> None:
    pool_id = api.pool()
    upload(api, pool_id, 60)
    default = api.get("/tasks", params={"pool_id": pool_id}).json()
    assert len(default["items"]) == 50 and default["has_more"] is True
    ids = [t["id"] for t in api.get("/tasks", params={"pool_id": pool_id, "limit": 100}).json()["items"]]
    newest = api.get("/tasks", params={"pool_id": pool_id, "sort": "-id", "limit": 5}).json()
    assert [t["id"] for t in newest["items"]] == ids[::-1][:5]
    window = api.get("/tasks", params={"pool_id": pool_id, "id_gte": ids[10], "id_lte": ids[19]}).json()
    assert [t["id"] for t in window["items"]] == ids[10:20]
    assert api.get("/tasks", params={"pool_id": pool_id, "limit": 100_001}).status_code == 400
    missing_pool = api.get("/tasks")  # pool_id is required (GET /tasks in the reference)
    assert missing_pool.status_code == 400 and missing_pool.json()["payload"]["pool_id"]["code"] == "VALUE_REQUIRED"
    assert api.get("/tasks", params={"pool_id": "404"}).json() == {"items": [], "has_more": False}


def test_assignments_empty_then_seeded(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    assert api.get("/assignments", params={"pool_id": pool_id}).json() == {"items": [], "has_more": False}
    created = api.create("/tasks", [task(pool_id)])["items"]["0"]
    state = toloka_emulator.state
    accepted = state.add_assignment(pool_id, [created], [{"output_values": {"result": "boots"}}], status="ACCEPTED")
    state.add_assignment(pool_id, [created], [{"output_values": {"result": "other"}}], status="SUBMITTED")
    listed = api.get("/assignments", params={"pool_id": pool_id, "status": "ACCEPTED"}).json()
    assert [a["id"] for a in listed["items"]] == [accepted["id"]]
    assert listed["items"][0]["solutions"] == [{"output_values": {"result": "boots"}}]
    assert len(api.get("/assignments", params={"pool_id": pool_id}).json()["items"]) == 2
