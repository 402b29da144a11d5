"""Projects and pools: creation, validation errors, reading and listing."""

from __future__ import annotations

import re
import time

from emulator_helpers import SHOES_PROJECT, Api, pool_body

from airflow_provider_toloka.testing import TolokaEmulator

CREATED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")


def test_create_project_echoes_body_and_metadata(api: Api) -> None:
    body = {**SHOES_PROJECT, "metadata": {"dag": ["shoes"], "run": ["r1", "r2"]}, "private_comment": "x"}
    project = api.create("/projects", body)
    assert project["id"].isdigit()
    assert project["status"] == "ACTIVE"
    assert CREATED.match(project["created"])
    assert project["metadata"] == {"dag": ["shoes"], "run": ["r1", "r2"]}
    assert project["private_comment"] == "x"
    assert project["task_spec"] == SHOES_PROJECT["task_spec"]
    assert project["owner"]["myself"] is True
    assert api.get(f"/projects/{project['id']}").json() == project


def test_project_ids_increase(api: Api) -> None:
    first, second = api.project(), api.project()
    assert int(second) > int(first)


def test_project_validation_error(api: Api) -> None:
    body = {**SHOES_PROJECT, "task_spec": {"input_spec": {"image": {"type": "picture"}}, "output_spec": {}}}
    response = api.post("/projects", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "VALIDATION_ERROR"
    assert "task_spec.input_spec.image.type" in error["payload"]
    assert error["payload"]["task_spec.input_spec.image.type"]["code"] == "VALUE_NOT_ALLOWED"
    missing = api.post("/projects", json={"public_name": "only a name"})
    assert missing.status_code == 400
    assert missing.json()["payload"]["task_spec"]["code"] == "VALUE_REQUIRED"
    assert "public_description" not in missing.json()["payload"]  # optional in ProjectFormV1


def test_invalid_json_is_validation_error(api: Api) -> None:
    response = api.post("/projects", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_missing_objects_are_404(api: Api) -> None:
    for path in ("/projects/999", "/pools/999", "/tasks/nope", "/operations/nope", "/operations/nope/log"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "DOES_NOT_EXIST"


def test_create_pool(api: Api) -> None:
    project_id = api.project()
    pool = api.create("/pools", pool_body(project_id, metadata={"k": ["v"]}))
    assert pool["status"] == "CLOSED"
    assert "last_close_reason" not in pool
    assert pool["project_id"] == project_id
    assert pool["metadata"] == {"k": ["v"]}
    assert pool["id"].isdigit()
    assert CREATED.match(pool["created"])
    assert api.get(f"/pools/{pool['id']}").json() == pool


def test_pool_validation_errors(api: Api) -> None:
    project_id = api.project()
    body = pool_body(project_id)
    del body["private_name"]
    body["reward_per_assignment"] = -1
    response = api.post("/pools", json=body)
    assert response.status_code == 400
    payload = response.json()["payload"]
    assert payload["private_name"]["code"] == "VALUE_REQUIRED"
    assert "reward_per_assignment" in payload


def test_pool_of_unknown_project(api: Api) -> None:
    response = api.post("/pools", json=pool_body("424242"))
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["payload"]["project_id"]["code"] == "ENTITY_DOES_NOT_EXIST"


def test_list_projects_sort_filter_and_paging(api: Api) -> None:
    ids = []
    for n in range(5):
        ids.append(api.project(metadata={"n": [str(n)]}))
        time.sleep(0.003)  # distinct millisecond timestamps for created_gt
    page = api.get("/projects", params={"sort": "id", "limit": 2}).json()
    assert [p["id"] for p in page["items"]] == ids[:2]
    assert page["has_more"] is True
    rest = api.get("/projects", params={"sort": "id", "id_gt": ids[1], "limit": 10}).json()
    assert [p["id"] for p in rest["items"]] == ids[2:]
    assert rest["has_more"] is False
    newest = api.get("/projects", params={"sort": "-created", "limit": 1}).json()
    assert newest["items"][0]["id"] == ids[-1]
    below = api.get("/projects", params={"sort": "-id", "id_lt": ids[2]}).json()
    assert [p["id"] for p in below["items"]] == [ids[1], ids[0]]
    assert api.get("/projects", params={"status": "ARCHIVED"}).json() == {"items": [], "has_more": False}
    created = api.get(f"/projects/{ids[2]}").json()["created"]
    after = api.get("/projects", params={"created_gt": created, "sort": "id"}).json()["items"]
    assert [p["id"] for p in after] == ids[3:]
    assert api.get("/projects", params={"sort": "name"}).status_code == 400
    assert api.get("/projects", params={"limit": "0"}).status_code == 400


def test_list_pools_by_project_and_status(api: Api, toloka_emulator: TolokaEmulator) -> None:
    first, second = api.project(), api.project()
    pools = [api.pool(first), api.pool(first), api.pool(second)]
    listed = api.get("/pools", params={"project_id": first}).json()
    assert [p["id"] for p in listed["items"]] == pools[:2]
    assert api.get("/pools", params={"status": "OPEN"}).json()["items"] == []
    assert len(api.get("/pools", params={"status": "CLOSED"}).json()["items"]) == 3
    assert toloka_emulator.state.get_pool(pools[2])["project_id"] == second
