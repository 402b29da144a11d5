"""The emulator's answers validated against the response schemas of Toloka's API reference (fullApi.yaml).

Every implemented endpoint of this module's scope is called over real HTTP, and each success body is
validated against the schema its path, method and status give in ``fullApi.yaml`` (``$ref``s resolved
across ``parts/api/additional.yaml``). Error bodies are validated against the error shape the
reference's overview describes (``request_id``, ``code``, ``message``, optional ``payload``); the
operation log, documented as one ``OperationLog`` object, is an array of them.
"""

from __future__ import annotations

import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulator_helpers import SHOES_PROJECT, Api, pool_body, task
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from airflow_provider_toloka.testing import TolokaEmulator

REFERENCE = Path(__file__).parent / "data" / "toloka-api"
BASE = "file:///toloka-api/"
#: The error body of the reference's overview ("HTTP status codes"): payload is optional.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["request_id", "code", "message"],
    "properties": {"request_id": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}},
}

pytestmark = pytest.mark.toloka_emulator(operation_delay=0)


def placeholders_as_maps(node: Any) -> Any:
    """The reference's ``<ID>`` placeholder properties as what they stand for: a map of any keys.

    ``InputSpecNode`` documents "field name -> spec" as one property literally named ``<ID>`` (and
    requires it); the schema meant is ``additionalProperties`` with that property's schema.
    """
    if isinstance(node, list):
        return [placeholders_as_maps(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: placeholders_as_maps(value) for key, value in node.items()}
    properties = node.get("properties")
    if isinstance(properties, dict) and "<ID>" in properties:
        node["additionalProperties"] = properties.pop("<ID>")
        node["required"] = [name for name in node.get("required", []) if name != "<ID>"]
        if not node["required"]:
            del node["required"]
    return node


def draft7_bounds(node: Any) -> Any:
    """OpenAPI 3.0's boolean ``exclusiveMinimum``/``exclusiveMaximum`` in draft 7's numeric form.

    ``issuing_order_override`` has ``exclusiveMaximum: false``, which draft 7 reads as a bound of 0.
    """
    if isinstance(node, list):
        return [draft7_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: draft7_bounds(value) for key, value in node.items()}
    for exclusive, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(exclusive), bool) and node.pop(exclusive) and inclusive in node:
            node[exclusive] = node.pop(inclusive)
    return node


#: Where the reference contradicts itself, the reading its examples (and the official client) agree on:
#: ``ViewSpecNode.config`` says ``type: array`` while its example is the Template Builder JSON as a string.
SELF_CONTRADICTIONS = {("parts/api/additional.yaml", "ViewSpecNode", "config"): {"type": "string"}}


@cache
def registry() -> Registry:
    """The reference's documents, addressable by their relative paths."""
    resources = []
    for relative in ("fullApi.yaml", "parts/api/additional.yaml"):
        document = draft7_bounds(
            placeholders_as_maps(yaml.safe_load((REFERENCE / relative).read_text(encoding="utf-8")))
        )
        for (where, schema, prop), replacement in SELF_CONTRADICTIONS.items():
            if where == relative:
                document["components"]["schemas"][schema]["properties"][prop] = replacement
        resources.append((BASE + relative, Resource.from_contents(document, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """A ``$ref`` to the JSON schema of one documented response."""
    document = registry()[BASE + "fullApi.yaml"].contents
    assert str(status) in document["paths"][path][method]["responses"], f"{method} {path} {status} is not documented"
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in ("paths", path, method, "responses"))
    return {"$ref": f"{BASE}fullApi.yaml#/{pointer}/{status}/content/application~1json/schema"}


def errors_of(schema: dict[str, Any], body: Any) -> list[str]:
    validator = Draft7Validator(schema, registry=registry())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body)]


def component(name: str) -> dict[str, Any]:
    """A ``$ref`` to one schema of ``components.schemas``."""
    return {"$ref": f"{BASE}fullApi.yaml#/components/schemas/{name}"}


def check(response: Any, path: str, method: str, status: int, branch: str | None = None) -> Any:
    """Assert the status and that the body matches the documented schema; return the body.

    :param branch: for a ``oneOf`` response (POST /tasks: a task, a batch result or an operation), the
        alternative that applies; the alternatives have no required fields, so more than one matches.
    """
    assert response.status_code == status, response.text
    body = response.json()
    schema = response_schema(path, method, status)
    if branch is not None:
        alternatives = registry().resolver().lookup(schema["$ref"]).contents["oneOf"]
        assert {"$ref": f"#/components/schemas/{branch}"} in alternatives
        schema = component(branch)
    assert errors_of(schema, body) == [], (method, path)
    return body


def check_sync_batch(response: Any) -> dict[str, Any]:
    """POST /tasks with an array, synchronously: as the reference's example ``multiple_tasks`` shows it.

    The example (and the official client's ``TaskBatchCreateResult``) has ``items`` as an object keyed by
    the item's index, where ``PageOfV1TaskViewV1`` says array: each item is checked as a ``TaskViewV1``.
    """
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"items", "validation_errors"}
    for created in body["items"].values():
        assert errors_of(component("TaskViewV1"), created) == [], created
    field_error = {"type": "object", "required": ["code", "message"]}
    for problems in body["validation_errors"].values():
        assert all(errors_of(field_error, problem) == [] for problem in problems.values()), problems
    return body


def check_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert errors_of(ERROR_SCHEMA, body) == [], body
    assert isinstance(body.get("payload", {}), (dict, type(None)))
    return body


def finished(api: Api, operation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while (operation := api.get(f"/operations/{operation_id}").json())["status"] not in ("SUCCESS", "FAIL"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return operation


def test_the_reference_copy_resolves() -> None:
    schema = response_schema("/operations/{id}/log", "get", 200)
    assert errors_of(schema, {"type": "TASK_CREATE", "success": True, "input": {}, "output": {}}) == []
    assert errors_of(schema, {"type": 1}) != []  # the schema is really applied


def test_success_bodies_match_the_reference(api: Api) -> None:
    check(api.get("/requester"), "/requester", "get", 200)
    project = check(api.post("/projects", json=SHOES_PROJECT), "/projects", "post", 201)
    check(api.get(f"/projects/{project['id']}"), "/projects/{id}", "get", 200)
    check(api.get("/projects", params={"sort": "-created"}), "/projects", "get", 200)
    pool = check(api.post("/pools", json=pool_body(project["id"])), "/pools", "post", 201)
    check(api.get(f"/pools/{pool['id']}"), "/pools/{id}", "get", 200)
    check(api.get("/pools", params={"project_id": project["id"]}), "/pools", "get", 200)

    created = check(api.post("/tasks", json=task(pool["id"])), "/tasks", "post", 201, "TaskViewV1")
    check(api.get(f"/tasks/{created['id']}"), "/tasks/{id}", "get", 200)
    items = [task(pool["id"]), task(pool["id"], image=None)]
    batch = check_sync_batch(api.post("/tasks", json=items, params={"skip_invalid_items": "true"}))
    assert list(batch["items"]) == ["0"] and list(batch["validation_errors"]) == ["1"]
    check(api.get("/tasks", params={"pool_id": pool["id"]}), "/tasks", "get", 200)

    params = {"async_mode": "true", "skip_invalid_items": "true", "operation_id": str(uuid.uuid4())}
    operation = check(api.post("/tasks", json=items, params=params), "/tasks", "post", 201, "OperationViewV1")
    single_answer = api.post("/tasks", json=task(pool["id"]), params={"async_mode": "true"})
    single = check(single_answer, "/tasks", "post", 201, "OperationViewV1")
    for operation_id in (operation["id"], single["id"]):
        finished(api, operation_id)
        check(api.get(f"/operations/{operation_id}"), "/operations/{id}", "get", 200)
        log = api.get(f"/operations/{operation_id}/log")
        assert log.status_code == 200 and isinstance(log.json(), list) and log.json()
        line_schema = response_schema("/operations/{id}/log", "get", 200)
        for line in log.json():
            assert errors_of(line_schema, line) == [], line
    check(api.get("/operations", params={"sort": "-submitted"}), "/operations", "get", 200)

    opening = check(api.post(f"/pools/{pool['id']}/open"), "/pools/{id}/open", "post", 202)
    finished(api, opening["id"])
    closing = check(api.post(f"/pools/{pool['id']}/close"), "/pools/{id}/close", "post", 202)
    finished(api, closing["id"])
    assert api.post(f"/pools/{pool['id']}/close").status_code == 204


def test_error_bodies_match_the_reference(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = api.pool()
    check_error(api.get("/pools/404404"), 404)
    check_error(api.get("/tasks/nope"), 404)
    check_error(api.get("/operations/nope"), 404)
    check_error(api.post("/projects", json={"public_name": "x"}), 400)
    check_error(api.post("/pools", json={**pool_body("404404")}), 400)
    check_error(api.post("/tasks", json=[task(pool_id, image=None)]), 400)
    check_error(api.post("/tasks", json=[task(pool_id)] * 5001), 413)
    check_error(api.get("/tasks", params={"pool_id": pool_id, "sort": "nope"}), 400)
    empty = api.pool()
    check_error(api.post(f"/pools/{empty}/open"), 409)
    params = {"async_mode": "true", "operation_id": str(uuid.uuid4())}
    assert api.post("/tasks", json=[task(pool_id)], params=params).status_code == 201
    check_error(api.post("/tasks", json=[task(pool_id)], params=params), 409)
    check_error(Api(toloka_emulator.api_url, token="").get("/requester"), 401)


def test_quota_error_body_matches_the_reference() -> None:
    with TolokaEmulator(pools_per_minute=1, operation_delay=0) as emulator:
        api = Api(emulator.api_url)
        project_id = api.project()
        api.pool(project_id)
        refused = check_error(api.post("/pools", json=pool_body(project_id)), 429)
        assert refused["payload"]["interval"] == "MIN"


def test_task_suite_bodies_match_the_reference(api: Api) -> None:
    pool_id = api.pool()
    body = {"pool_id": pool_id, "tasks": [{"input_values": {"image": "https://example.com/1.jpg"}}]}
    single = check(api.post("/task-suites", json=body), "/task-suites", "post", 201, "TaskSuiteViewV1")
    batch = api.post("/task-suites", json=[body, {"pool_id": pool_id}], params={"skip_invalid_items": "true"})
    assert batch.status_code == 201 and list(batch.json()["validation_errors"]) == ["1"]
    assert [errors_of(component("TaskSuiteViewV1"), view) for view in batch.json()["items"].values()] == [[]]
    operation = api.post("/task-suites", json=[body], params={"async_mode": "true"})
    finished(api, check(operation, "/task-suites", "post", 201, "OperationViewV1")["id"])
    check(api.get(f"/operations/{operation.json()['id']}"), "/operations/{id}", "get", 200)
    check(api.get("/task-suites", params={"pool_id": pool_id}), "/task-suites", "get", 200)
    check(api.get(f"/task-suites/{single['id']}"), "/task-suites/{id}", "get", 200)
    patch = {"overlap": 2, "infinite_overlap": False}
    check(api.session.patch(f"{api.base}/task-suites/{single['id']}", json=patch), "/task-suites/{id}", "patch", 200)
    # overlap 1, not the example's 0: the view the answer is documented as (TaskSuiteViewV1) has overlap >= 1
    stop = api.session.patch(f"{api.base}/task-suites/{single['id']}/set-overlap-or-min", json={"overlap": 1})
    check(stop, "/task-suites/{id}/set-overlap-or-min", "patch", 200)
    check_error(api.get("/task-suites", params={"pool_id": pool_id, "sort": "nope"}), 400)
    check_error(api.get("/task-suites/nope"), 404)
