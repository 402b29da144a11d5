"""Every documented listing filter and sort of GET /tasks, /operations, /pools and /projects is applied."""

from __future__ import annotations

import time

import pytest
from emulator_helpers import Api, task

from airflow_provider_toloka.testing import TolokaEmulator

pytestmark = pytest.mark.toloka_emulator(operation_delay=0)


def ids(answer: dict) -> list[str]:
    return [item["id"] for item in answer["items"]]


def test_task_filters_overlap_and_created(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    first = api.create("/tasks", [task(pool_id, overlap=n) for n in (1, 2, 3)])["items"]
    time.sleep(0.01)
    second = api.create("/tasks", [task(pool_id, overlap=5)])["items"]
    all_tasks = [*first.values(), *second.values()]

    def listed(**params: str) -> list[str]:
        return ids(api.get("/tasks", params={"pool_id": pool_id, **params}).json())

    assert listed(overlap="2") == [first["1"]["id"]]
    assert listed(overlap_gte="2", overlap_lt="5") == [first["1"]["id"], first["2"]["id"]]
    assert listed(overlap_gt="3") == [second["0"]["id"]]
    assert listed(overlap_lte="1") == [first["0"]["id"]]
    assert listed(created_gte=second["0"]["created"]) == [second["0"]["id"]]
    assert listed(created_lte=first["0"]["created"]) == [t["id"] for t in first.values()]
    assert listed(created_gt=first["0"]["created"], sort="-id") == [second["0"]["id"]]
    assert listed(sort="created,id") == [t["id"] for t in all_tasks]
    assert listed(sort="-created,-id", limit="2") == [second["0"]["id"], first["2"]["id"]]
    bad = api.get("/tasks", params={"pool_id": pool_id, "overlap_gt": "many"})
    assert bad.status_code == 400 and "overlap_gt" in bad.json()["payload"]
    assert api.get("/tasks", params={"pool_id": pool_id, "sort": "overlap"}).status_code == 400


def test_operation_filters_sorts_and_limit(api: Api) -> None:
    pool_id = api.pool()
    uploaded = [api.post("/tasks", json=[task(pool_id)], params={"async_mode": "true"}).json() for _ in range(3)]
    opened = api.post(f"/pools/{pool_id}/open").json()
    everything = ids(api.get("/operations", params={"sort": "submitted", "limit": "500"}).json())
    assert everything == [op["id"] for op in (*uploaded, opened)]
    both = api.get("/operations", params={"type": "TASK.BATCH_CREATE,POOL.OPEN", "status": "SUCCESS,FAIL"}).json()
    assert len(both["items"]) == 4
    later = api.get("/operations", params={"submitted_gte": uploaded[1]["submitted"], "sort": "finished"}).json()
    assert ids(later) == [uploaded[1]["id"], uploaded[2]["id"], opened["id"]]
    done = api.get(f"/operations/{uploaded[0]['id']}").json()
    assert ids(api.get("/operations", params={"finished_lte": done["finished"]}).json()) == [uploaded[0]["id"]]
    assert api.get("/operations", params={"limit": "501"}).status_code == 400
    assert api.get("/operations", params={"sort": "created"}).status_code == 400


def test_pool_and_project_filters_and_sorts(api: Api) -> None:
    project_id = api.project()
    pools = [api.pool(project_id) for _ in range(3)]
    for pool_id in (pools[2], pools[0]):
        api.create("/tasks", [task(pool_id)])
        api.post(f"/pools/{pool_id}/open")
        time.sleep(0.01)
    by_start = api.get("/pools", params={"project_id": project_id, "sort": "-last_started"}).json()
    assert ids(by_start) == [pools[0], pools[2], pools[1]]  # never started sorts last when descending
    started = api.get(f"/pools/{pools[0]}").json()["last_started"]
    assert ids(api.get("/pools", params={"last_started_gte": started}).json()) == [pools[0]]
    statuses = api.get("/pools", params={"project_id": project_id, "status": "OPEN,CLOSED"}).json()
    assert ids(statuses) == pools
    created = api.get(f"/pools/{pools[1]}").json()["created"]
    assert pools[1] in ids(api.get("/pools", params={"created_lte": created, "project_id": project_id}).json())
    named = api.get("/projects", params={"sort": "-public_name,id"}).json()
    assert [item["id"] for item in named["items"]] == [project_id]
    assert ids(api.get("/projects", params={"owner": "someone-else"}).json()) == []
    assert ids(api.get("/projects", params={"owner": "emulator-requester", "created_gte": created}).json()) == []
