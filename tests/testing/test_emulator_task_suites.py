"""Task suites (``/task-suites``) over real HTTP: creation (single, list, async), listing, reading, patches."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from emulator_helpers import Api
from extra_helpers import DEFAULTS, finish, send

pytestmark = pytest.mark.toloka_emulator(operation_delay=0.2)


def suite(pool_id: str, *images: Any, **extra: Any) -> dict[str, Any]:
    """A task suite body with one task per image."""
    images = images or ("https://example.com/1.jpg", "https://example.com/2.jpg")
    return {"pool_id": pool_id, "tasks": [{"input_values": {"image": image}} for image in images], **extra}


def test_single_suite_is_created_with_the_api_defaults_and_its_tasks(api: Api) -> None:
    pool_id = api.pool(defaults=DEFAULTS)
    created = api.create("/task-suites", suite(pool_id, issuing_order_override=3))
    assert created["pool_id"] == pool_id and created["overlap"] == 2 and created["remaining_overlap"] == 2
    assert created["infinite_overlap"] is False and created["mixed"] is False and created["automerged"] is False
    assert created["issuing_order_override"] == 3 and created["reserved_for"] == [] and created["created"]
    assert [task["input_values"]["image"] for task in created["tasks"]] == [
        "https://example.com/1.jpg",
        "https://example.com/2.jpg",
    ]
    assert api.get(f"/task-suites/{created['id']}").json() == created
    # the suite's tasks are tasks of the pool, with the suite's overlap
    for entry in created["tasks"]:
        stored = api.get(f"/tasks/{entry['id']}").json()
        assert stored["pool_id"] == pool_id and stored["overlap"] == 2
    assert len(api.get("/tasks", params={"pool_id": pool_id}).json()["items"]) == 2
    # a pool holding only suites can be opened
    assert finish(api, api.post(f"/pools/{pool_id}/open").json())["status"] == "SUCCESS"


def test_invalid_suites_are_refused_with_field_paths(api: Api) -> None:
    pool_id = api.pool(defaults={"default_overlap_for_new_task_suites": 4, "default_overlap_for_new_tasks": 1})
    with_defaults = api.post("/task-suites", json=suite(pool_id))
    assert with_defaults.status_code == 201 and with_defaults.json()["overlap"] == 4  # the suite default serves

    bad = {
        "pool_id": pool_id,
        "overlap": 30001,
        "color": "red",
        "issuing_order_override": 100000,
        "tasks": [{"input_values": {"image": 5}}, {"input_values": {"image": "x"}, "baseline_solutions": []}],
    }
    payload = api.post("/task-suites", json=bad).json()["payload"]
    assert payload["overlap"]["code"] == "VALUE_GREATER_THAN_MAX"
    assert payload["color"]["code"] == "VALUE_NOT_ALLOWED"
    assert payload["issuing_order_override"]["code"] == "VALUE_GREATER_THAN_MAX"
    assert payload["tasks.1.baseline_solutions"]["code"] == "VALUE_NOT_ALLOWED"
    assert any(path.startswith("tasks.0.input_values") for path in payload), payload
    assert api.post("/task-suites", json={"pool_id": pool_id, "tasks": [], "overlap": 1}).status_code == 400
    unknown_pool = api.post("/task-suites", json=suite("404404", overlap=1)).json()
    assert unknown_pool["payload"]["pool_id"]["code"] == "ENTITY_DOES_NOT_EXIST"
    assert api.get("/task-suites", params={"pool_id": pool_id}).json()["items"] == [with_defaults.json()]


def test_sync_list_all_or_nothing_unless_skipping_invalid(api: Api) -> None:
    pool_id = api.pool(defaults=DEFAULTS)
    items = [suite(pool_id), suite(pool_id, None), suite(pool_id, "https://example.com/3.jpg")]
    refused = api.post("/task-suites", json=items)
    assert refused.status_code == 400 and list(refused.json()["payload"]) == ["1"]
    assert api.get("/task-suites", params={"pool_id": pool_id}).json()["items"] == []

    answer = api.create("/task-suites", items, params={"skip_invalid_items": "true"})
    assert sorted(answer["items"]) == ["0", "2"] and list(answer["validation_errors"]) == ["1"]
    assert "tasks.0.input_values.image" in answer["validation_errors"]["1"]
    listed = api.get("/task-suites", params={"pool_id": pool_id}).json()["items"]
    assert [entry["id"] for entry in listed] == [answer["items"]["0"]["id"], answer["items"]["2"]["id"]]
    too_many = api.post("/task-suites", json=[suite(pool_id)] * 5001)
    assert too_many.status_code == 413


def test_async_batch_is_a_task_suite_operation_with_its_log_and_idempotent_id(api: Api) -> None:
    pool_id = api.pool(defaults=DEFAULTS)
    items = [suite(pool_id), {**suite(pool_id), "__item_idx": 1, "tasks": "nope"}]
    params = {
        "async_mode": "true",
        "skip_invalid_items": "true",
        "open_pool": "true",
        "operation_id": str(uuid.uuid4()),
    }
    operation = api.create("/task-suites", items, params=params)
    assert operation["type"] == "TASK_SUITE.BATCH_CREATE" and operation["id"] == params["operation_id"]
    assert operation["parameters"] == {"allow_defaults": False, "skip_invalid_items": True, "open_pool": True}
    again = api.post("/task-suites", json=items, params=params)
    assert again.status_code == 409 and again.json()["code"] == "OPERATION_ALREADY_EXISTS"

    done = finish(api, operation)
    assert done["status"] == "SUCCESS"
    assert done["details"] == {
        "total_count": 2,
        "valid_count": 1,
        "not_valid_count": 1,
        "success_count": 1,
        "failed_count": 1,
    }
    log = api.get(f"/operations/{operation['id']}/log").json()
    assert [line["type"] for line in log] == ["TASK_SUITE_CREATE", "TASK_SUITE_VALIDATE"]
    assert log[1]["input"] == items[1] and log[1]["output"]["tasks"]["code"] == "ARRAY_EXPECTED"
    created = api.get(f"/task-suites/{log[0]['output']['task_suite_id']}").json()
    assert created["pool_id"] == pool_id and len(created["tasks"]) == 2
    assert api.get(f"/pools/{pool_id}").json()["status"] == "OPEN"

    failing = finish(api, api.create("/task-suites", items, params={"async_mode": "true"}))
    assert failing["status"] == "FAIL" and failing["details"]["success_count"] == 0
    assert len(api.get("/task-suites", params={"pool_id": pool_id}).json()["items"]) == 1


def test_listing_filters_sorts_and_refusals(api: Api) -> None:
    pool_id = api.pool(defaults=DEFAULTS)
    first = api.create("/task-suites", suite(pool_id, overlap=1))
    second = api.create("/task-suites", suite(pool_id, overlap=3))
    other_pool = api.create("/task-suites", suite(api.pool(defaults=DEFAULTS)))

    def ids(**params: Any) -> list[str]:
        answer = api.get("/task-suites", params=params)
        assert answer.status_code == 200, answer.text
        return [entry["id"] for entry in answer.json()["items"]]

    assert ids(pool_id=pool_id) == [first["id"], second["id"]]
    assert ids(pool_id=pool_id, sort="-id") == [second["id"], first["id"]]
    assert ids(pool_id=pool_id, overlap=3) == [second["id"]]
    assert ids(pool_id=pool_id, overlap_lt=3) == [first["id"]]
    assert ids(pool_id=pool_id, id_gt=first["id"]) == [second["id"]]
    assert ids(pool_id=pool_id, created_gte="2000-01-01T00:00:00", limit=1) == [first["id"]]
    assert ids(pool_id=pool_id, created_lt="2000-01-01") == []
    assert ids(task_id=other_pool["tasks"][0]["id"]) == [other_pool["id"]]
    assert api.get("/task-suites", params={"pool_id": pool_id, "limit": 1}).json()["has_more"] is True

    for params in ({"pool_id": pool_id, "sort": "overlap"}, {"pool_id": pool_id, "created_gt": "then"}, {}):
        refused = api.get("/task-suites", params=params)
        assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION_ERROR", params
    assert api.get("/task-suites/nope").json()["code"] == "DOES_NOT_EXIST"


def test_patch_and_set_overlap_or_min(api: Api) -> None:
    pool_id = api.pool(defaults=DEFAULTS)
    created = api.create("/task-suites", suite(pool_id))
    path = f"/task-suites/{created['id']}"
    patched = send(api, "PATCH", path, {"overlap": 5, "infinite_overlap": False, "issuing_order_override": 10})
    assert patched.status_code == 200, patched.text
    assert patched.json()["overlap"] == 5 and patched.json()["issuing_order_override"] == 10
    assert api.get(f"/tasks/{created['tasks'][0]['id']}").json()["overlap"] == 5
    missing = send(api, "PATCH", path, {"overlap": 5})
    assert missing.status_code == 400 and missing.json()["payload"]["infinite_overlap"]["code"] == "VALUE_REQUIRED"
    for body, code in (
        ({"overlap": 0, "infinite_overlap": False}, "VALUE_LESS_THAN_MIN"),
        ({"x": 1}, "VALUE_NOT_ALLOWED"),
    ):
        refused = send(api, "PATCH", path, body).json()
        assert code in {problem["code"] for problem in refused["payload"].values()}, refused

    opened = send(api, "PATCH", path + "?open_pool=true", {"overlap": 6, "infinite_overlap": False})
    assert opened.json()["overlap"] == 6 and api.get(f"/pools/{pool_id}").json()["status"] == "OPEN"
    infinite = send(api, "PATCH", path, {"infinite_overlap": True})
    assert infinite.json()["infinite_overlap"] is True and infinite.json()["overlap"] == 6

    stopped = send(api, "PATCH", path + "/set-overlap-or-min", {"overlap": 0})
    assert stopped.status_code == 200 and stopped.json()["overlap"] == 0 and stopped.json()["remaining_overlap"] == 0
    assert send(api, "PATCH", path + "/set-overlap-or-min", {"overlap": -1}).status_code == 400
    assert send(api, "PATCH", "/task-suites/nope/set-overlap-or-min", {"overlap": 0}).status_code == 404
