"""Pool, project and task lifecycle: archive, clone, PUT/PATCH, close-for-update, task patches."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, pool_body
from extra_helpers import DEFAULTS, filled_pool, finish, send

from airflow_provider_toloka.testing import TolokaEmulator

pytestmark = pytest.mark.toloka_emulator(operation_delay=0.2)


def test_archive_needs_a_closed_pool_then_archives_once(api: Api) -> None:
    pool_id, _ = filled_pool(api)
    finish(api, api.post(f"/pools/{pool_id}/open").json())
    refused = api.post(f"/pools/{pool_id}/archive")
    assert refused.status_code == 409 and refused.json()["code"] == "POOL_INAPPROPRIATE_STATUS"

    finish(api, api.post(f"/pools/{pool_id}/close").json())
    archiving = api.post(f"/pools/{pool_id}/archive")
    assert archiving.status_code == 202
    assert archiving.json()["type"] == "POOL.ARCHIVE" and archiving.json()["parameters"] == {"pool_id": pool_id}
    assert finish(api, archiving.json())["status"] == "SUCCESS"
    assert api.get(f"/pools/{pool_id}").json()["status"] == "ARCHIVED"
    again = api.post(f"/pools/{pool_id}/archive")
    assert again.status_code == 204 and again.content == b""
    assert api.post("/pools/999999/archive").json()["code"] == "DOES_NOT_EXIST"


def test_clone_copies_settings_without_tasks(api: Api) -> None:
    pool_id, _ = filled_pool(api, private_comment="original")
    cloning = api.post(f"/pools/{pool_id}/clone")
    assert cloning.status_code == 202 and cloning.json()["type"] == "POOL.CLONE"
    done = finish(api, cloning.json())
    assert done["status"] == "SUCCESS" and done["parameters"] == {"pool_id": pool_id}
    clone_id = done["details"]["pool_id"]
    assert clone_id != pool_id
    original, clone = api.get(f"/pools/{pool_id}").json(), api.get(f"/pools/{clone_id}").json()
    assert clone["status"] == "CLOSED" and clone["private_comment"] == "original"
    assert clone["defaults"] == original["defaults"] and clone["project_id"] == original["project_id"]
    assert api.get("/tasks", params={"pool_id": clone_id}).json()["items"] == []


def test_put_replaces_settings_of_a_closed_pool_only(api: Api) -> None:
    pool_id, _ = filled_pool(api)
    stored = api.get(f"/pools/{pool_id}").json()
    edited = send(api, "PUT", f"/pools/{pool_id}", {**stored, "private_name": "Renamed", "status": "OPEN"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["private_name"] == "Renamed" and edited.json()["status"] == "CLOSED"
    assert api.get(f"/pools/{pool_id}").json()["private_name"] == "Renamed"

    invalid = send(api, "PUT", f"/pools/{pool_id}", {**stored, "reward_per_assignment": "much"})
    assert invalid.status_code == 400 and invalid.json()["code"] == "VALIDATION_ERROR"

    finish(api, api.post(f"/pools/{pool_id}/open").json())
    refused = send(api, "PUT", f"/pools/{pool_id}", stored)
    assert refused.status_code == 409 and refused.json()["code"] == "POOL_INAPPROPRIATE_STATUS"


def test_close_for_update_then_patch_priority(api: Api) -> None:
    pool_id, _ = filled_pool(api)
    assert api.post(f"/pools/{pool_id}/close-for-update").status_code == 204  # already closed
    finish(api, api.post(f"/pools/{pool_id}/open").json())
    closing = api.post(f"/pools/{pool_id}/close-for-update")
    assert closing.status_code == 202 and closing.json()["type"] == "POOL.CLOSE"
    finish(api, closing.json())
    closed = api.get(f"/pools/{pool_id}").json()
    assert closed["status"] == "CLOSED" and closed["last_close_reason"] == "FOR_UPDATE"

    patched = send(api, "PATCH", f"/pools/{pool_id}", {"priority": 42})
    assert patched.status_code == 200 and patched.json()["priority"] == 42
    too_high = send(api, "PATCH", f"/pools/{pool_id}", {"priority": 101})
    assert too_high.status_code == 400
    assert too_high.json()["payload"]["priority"]["code"] == "VALUE_GREATER_THAN_MAX"
    unknown = send(api, "PATCH", f"/pools/{pool_id}", {"private_name": "x"})
    assert unknown.json()["payload"]["private_name"]["code"] == "VALUE_NOT_ALLOWED"

    finish(api, api.post(f"/pools/{pool_id}/archive").json())
    assert send(api, "PATCH", f"/pools/{pool_id}", {"priority": 1}).status_code == 409


def test_project_put_and_archive_after_its_pools(api: Api) -> None:
    project_id = api.project()
    pool_id = api.pool(project_id, defaults=DEFAULTS)
    project = api.get(f"/projects/{project_id}").json()
    edited = send(api, "PUT", f"/projects/{project_id}", {**project, "public_name": "Shoes, edited"})
    assert edited.status_code == 200 and edited.json()["public_name"] == "Shoes, edited"
    assert edited.json()["created"] == project["created"] and edited.json()["status"] == "ACTIVE"

    blocked = api.post(f"/projects/{project_id}/archive")
    assert blocked.status_code == 409 and blocked.json()["code"] == "UNARCHIVED_POOLS_CONFLICT"
    finish(api, api.post(f"/pools/{pool_id}/archive").json())
    archiving = api.post(f"/projects/{project_id}/archive")
    assert archiving.status_code == 202 and archiving.json()["type"] == "PROJECT.ARCHIVE"
    assert archiving.json()["parameters"] == {"project_id": project_id}
    finish(api, archiving.json())
    assert api.get(f"/projects/{project_id}").json()["status"] == "ARCHIVED"
    assert api.post(f"/projects/{project_id}/archive").status_code == 204
    assert send(api, "PUT", f"/projects/{project_id}", project).status_code == 409


def test_task_patch_and_set_overlap_or_min(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id, tasks = filled_pool(api, count=1)
    task_id = tasks[0]["id"]
    patched = send(api, "PATCH", f"/tasks/{task_id}", {"overlap": 5, "infinite_overlap": False})
    assert patched.status_code == 200 and patched.json()["overlap"] == 5
    assert api.get(f"/tasks/{task_id}").json()["overlap"] == 5
    zero = send(api, "PATCH", f"/tasks/{task_id}", {"overlap": 0})
    assert zero.status_code == 400 and zero.json()["payload"]["overlap"]["code"] == "VALUE_LESS_THAN_MIN"
    typo = send(api, "PATCH", f"/tasks/{task_id}", {"overlapp": 3})
    assert typo.json()["payload"]["overlapp"]["code"] == "VALUE_NOT_ALLOWED"

    toloka_emulator.state.add_assignment(pool_id, [tasks[0]], status="SUBMITTED")
    lowered = send(api, "PATCH", f"/tasks/{task_id}/set-overlap-or-min", {"overlap": 0})
    assert lowered.status_code == 200 and lowered.json()["overlap"] == 1  # one answer already taken
    assert send(api, "PATCH", "/tasks/no-such-task", {"overlap": 1}).status_code == 404


def test_wrong_method_and_unknown_path_answer_toloka_errors(api: Api) -> None:
    wrong = send(api, "DELETE", "/pools")
    assert wrong.status_code == 405 and set(wrong.json()) >= {"request_id", "code", "message"}
    unknown = api.get("/no-such-resource")
    assert unknown.status_code == 404 and unknown.json()["code"] == "DOES_NOT_EXIST"


def test_pool_body_helper_is_still_valid(api: Api) -> None:
    assert api.post("/pools", json=pool_body(api.project(), defaults=DEFAULTS)).status_code == 201
