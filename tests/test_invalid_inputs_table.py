"""Invalid inputs with the API's answer, asserted against the emulator (real HTTP) and the client's local checks.

Each row is one invalid task, pool or project, the HTTP status and error code the API answers, and
where the reference says so. The same row must be refused, with the same code on the same field, by
the emulator and by the client before it sends anything: so the two cannot agree on a rule the API
does not have, nor drift apart.

Sources: **EX** the reference's examples (``reference/responses/api/task-post.yaml``), **OAS**
``reference/fullApi.yaml``, **TK** toloka-kit 1.2.3 (its tests replay the API's answers;
``error_codes.py`` lists the validation codes; a syntax rule known from the code list only is marked
*inferred*).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from quickstart import TOKEN

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.models import pool_errors, project_errors
from airflow_provider_toloka.client.validation import InputValidator
from airflow_provider_toloka.testing import TolokaEmulator

#: The table project's input_spec: one field per type and constraint the rows break.
INPUT_SPEC: dict[str, Any] = {
    "image": {"type": "url"},
    "text": {"type": "string", "min_length": 2, "max_length": 5, "required": False},
    "n": {"type": "integer", "min_value": 0, "max_value": 10, "required": False},
    "x": {"type": "float", "required": False},
    "flag": {"type": "boolean", "required": False},
    "tags": {"type": "array_string", "required": False},
    "label": {"type": "string", "allowed_values": ["cat", "dog"], "required": False},
    "where": {"type": "coordinates", "required": False},
}
PROJECT: dict[str, Any] = {
    "public_name": "Invalid inputs table",
    "public_description": "Rows of invalid inputs",
    "task_spec": {"input_spec": INPUT_SPEC, "output_spec": {"result": {"type": "string"}}},
    "assignments_issuing_type": "AUTOMATED",
}
POOL: dict[str, Any] = {
    "private_name": "Invalid inputs table",
    "may_contain_adult_content": False,
    "will_expire": "2099-01-01T00:00:00",
    "reward_per_assignment": 0.01,
    "assignment_max_duration_seconds": 600,
    "defaults": {"default_overlap_for_new_task_suites": 1, "default_overlap_for_new_tasks": 1},
}
VALID = {"image": "https://example.com/1.jpg"}


@dataclass(frozen=True)
class Row:
    """One invalid input: what it is, the object, and the API's answer.

    :param kind: ``task`` (a task of the table pool, ``pool_id`` filled in), ``pool`` (``project_id``
        filled in) or ``project``.
    :param status: the HTTP status: for tasks that of a sync upload with ``skip_invalid_items=true``,
        whose per-item errors are in ``validation_errors`` (EX ``multiple_tasks``).
    :param field: the path of the refused field; :param code: its error code.
    """

    name: str
    kind: str
    body: dict[str, Any]
    status: int
    field: str
    code: str
    source: str


def task(input_values: Any, **fields: Any) -> dict[str, Any]:
    return {"input_values": input_values, "overlap": 1, **fields}


ROWS = [
    Row("required field missing", "task", task({}), 201, "input_values.image", "VALUE_REQUIRED", "EX multiple_tasks"),
    Row(
        "required field null",
        "task",
        task({"image": None}),
        201,
        "input_values.image",
        "VALUE_REQUIRED",
        "TK test_create_tasks_with_error",
    ),
    Row(
        "field not in input_spec",
        "task",
        task({**VALID, "imagis": "https://example.com/1.jpg"}),
        201,
        "input_values.imagis",
        "VALUE_NOT_ALLOWED",
        "TK task_create_result_map ('Unknown field name')",
    ),
    Row(
        "string field given a number",
        "task",
        task({**VALID, "text": 12}),
        201,
        "input_values.text",
        "STRING_EXPECTED",
        "TK",
    ),
    Row("url field given a number", "task", task({"image": 42}), 201, "input_values.image", "STRING_EXPECTED", "TK"),
    Row(
        "integer field given a string",
        "task",
        task({**VALID, "n": "1"}),
        201,
        "input_values.n",
        "INTEGER_EXPECTED",
        "TK",
    ),
    Row(
        "integer field given a fraction",
        "task",
        task({**VALID, "n": 1.5}),
        201,
        "input_values.n",
        "INTEGER_EXPECTED",
        "TK",
    ),
    Row(
        "integer field given a boolean",
        "task",
        task({**VALID, "n": True}),
        201,
        "input_values.n",
        "INTEGER_EXPECTED",
        "TK",
    ),
    Row(
        "float field given a string", "task", task({**VALID, "x": "1.5"}), 201, "input_values.x", "FLOAT_EXPECTED", "TK"
    ),
    Row(
        "boolean field given 1", "task", task({**VALID, "flag": 1}), 201, "input_values.flag", "BOOLEAN_EXPECTED", "TK"
    ),
    Row(
        "array field given a string",
        "task",
        task({**VALID, "tags": "a"}),
        201,
        "input_values.tags",
        "ARRAY_EXPECTED",
        "TK",
    ),
    Row(
        "array item of the wrong type",
        "task",
        task({**VALID, "tags": ["a", 1]}),
        201,
        "input_values.tags",
        "STRING_EXPECTED",
        "TK",
    ),
    Row(
        "string shorter than min_length",
        "task",
        task({**VALID, "text": "a"}),
        201,
        "input_values.text",
        "STRING_LENGTH_LESS_THAN_MIN",
        "TK",
    ),
    Row(
        "string longer than max_length",
        "task",
        task({**VALID, "text": "abcdef"}),
        201,
        "input_values.text",
        "STRING_LENGTH_GREATER_THAN_MAX",
        "TK",
    ),
    Row("number under min_value", "task", task({**VALID, "n": -1}), 201, "input_values.n", "VALUE_LESS_THAN_MIN", "TK"),
    Row(
        "number over max_value", "task", task({**VALID, "n": 11}), 201, "input_values.n", "VALUE_GREATER_THAN_MAX", "TK"
    ),
    Row(
        "value not in allowed_values",
        "task",
        task({**VALID, "label": "bird"}),
        201,
        "input_values.label",
        "VALUE_NOT_ALLOWED",
        "TK",
    ),
    Row(
        "url without a scheme",
        "task",
        task({"image": "example.com/1.jpg"}),
        201,
        "input_values.image",
        "INVALID_URL_SYNTAX",
        "TK (inferred)",
    ),
    Row(
        "coordinates that are not two numbers",
        "task",
        task({**VALID, "where": "north"}),
        201,
        "input_values.where",
        "INVALID_COORDINATES_SYNTAX",
        "TK (inferred)",
    ),
    Row(
        "input_values not an object",
        "task",
        task("https://example.com/1.jpg"),
        201,
        "input_values",
        "OBJECT_EXPECTED",
        "TK",
    ),
    Row("overlap 0", "task", task(VALID, overlap=0), 201, "overlap", "VALUE_LESS_THAN_MIN", "OAS TaskFormV1.overlap"),
    Row(
        "overlap over 30000",
        "task",
        task(VALID, overlap=30001),
        201,
        "overlap",
        "VALUE_GREATER_THAN_MAX",
        "OAS TaskFormV1.overlap",
    ),
    Row("overlap not an integer", "task", task(VALID, overlap="2"), 201, "overlap", "INTEGER_EXPECTED", "TK"),
    Row(
        "project without public_name",
        "project",
        {key: value for key, value in PROJECT.items() if key != "public_name"},
        400,
        "public_name",
        "VALUE_REQUIRED",
        "OAS ProjectFormV1.required",
    ),
    Row(
        "project without task_spec",
        "project",
        {key: value for key, value in PROJECT.items() if key != "task_spec"},
        400,
        "task_spec",
        "VALUE_REQUIRED",
        "OAS ProjectFormV1.required",
    ),
    Row(
        "pool without private_name",
        "pool",
        {key: value for key, value in POOL.items() if key != "private_name"},
        400,
        "private_name",
        "VALUE_REQUIRED",
        "OAS PoolFormV1.required",
    ),
    Row(
        "pool without will_expire",
        "pool",
        {key: value for key, value in POOL.items() if key != "will_expire"},
        400,
        "will_expire",
        "VALUE_REQUIRED",
        "OAS PoolFormV1.required",
    ),
]


@pytest.fixture(scope="module")
def table_pool(emulator: TolokaEmulator) -> dict[str, str]:
    """The table's project and pool on the session emulator: {"project_id", "pool_id"}."""
    project = api_post(emulator, "/projects", PROJECT)
    assert project.status_code == 201, project.text
    pool = api_post(emulator, "/pools", {**POOL, "project_id": project.json()["id"]})
    assert pool.status_code == 201, pool.text
    return {"project_id": project.json()["id"], "pool_id": pool.json()["id"]}


def api_post(emulator: TolokaEmulator, path: str, body: Any, **params: str) -> requests.Response:
    return requests.post(
        f"{emulator.url}/api/v1{path}",
        json=body,
        params=params,
        headers={"Authorization": f"ApiKey {TOKEN}"},
        timeout=30,
    )


def filled(row: Row, ids: dict[str, str]) -> dict[str, Any]:
    body = copy.deepcopy(row.body)
    if row.kind == "task":
        body["pool_id"] = ids["pool_id"]
    elif row.kind == "pool":
        body["project_id"] = ids["project_id"]
    return body


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_the_emulator_answers_as_the_api(row: Row, emulator: TolokaEmulator, table_pool: dict[str, str]) -> None:
    body = filled(row, table_pool)
    if row.kind == "task":
        answer = api_post(emulator, "/tasks", [body], async_mode="false", skip_invalid_items="true")
        assert answer.status_code == row.status, answer.text
        assert answer.json()["items"] == {}
        errors = answer.json()["validation_errors"]["0"]
    else:
        answer = api_post(emulator, f"/{row.kind}s", body)
        assert answer.status_code == row.status, answer.text
        assert answer.json()["code"] == "VALIDATION_ERROR"
        errors = answer.json()["payload"]
    assert errors[row.field]["code"] == row.code, errors


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_the_client_refuses_it_before_sending(row: Row, client: TolokaClient, table_pool: dict[str, str]) -> None:
    body = filled(row, table_pool)
    if row.kind == "task":
        assert InputValidator(INPUT_SPEC).validate_task(body)[row.field]["code"] == row.code  # type: ignore[index]
        with pytest.raises(TolokaValidationError) as caught:
            client.check_tasks([body], table_pool["pool_id"])  # the upload's path: the compiled list check
        errors = caught.value.errors["0"]
    else:
        errors = (project_errors if row.kind == "project" else pool_errors)(body)
    assert errors[row.field]["code"] == row.code, errors


def test_every_row_is_valid_once_fixed(emulator: TolokaEmulator, table_pool: dict[str, str]) -> None:
    """The baseline the rows break is itself valid, so each row fails for its one reason."""
    answer = api_post(
        emulator,
        "/tasks",
        [{**task(VALID), "pool_id": table_pool["pool_id"]}],
        async_mode="false",
        skip_invalid_items="true",
    )
    assert answer.status_code == 201 and answer.json()["validation_errors"] in ({}, None), answer.text
    assert not project_errors(PROJECT)
    assert not pool_errors({**POOL, "project_id": table_pool["project_id"]})
