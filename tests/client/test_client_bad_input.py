"""Bad settings and bad input get a clear error, before any write reaches the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig, normalize_base_url
from airflow_provider_toloka.client.errors import TolokaConfigError, TolokaNotFoundError, TolokaValidationError
from airflow_provider_toloka.client.files import iter_task_file
from airflow_provider_toloka.client.validation import InputValidator
from airflow_provider_toloka.testing import TolokaEmulator


@pytest.mark.parametrize("token", [None, "", "   ", "\n"])
def test_missing_or_empty_api_key(token: Any) -> None:
    with pytest.raises(TolokaConfigError, match=r"API key is missing or empty.*password"):
        ClientConfig(token=token)
    with pytest.raises(TolokaConfigError, match="API key is missing or empty"):
        ClientConfig.from_settings(token=token, url="http://127.0.0.1:1")


def test_unknown_environment() -> None:
    with pytest.raises(TolokaConfigError) as caught:
        ClientConfig.from_settings(token="t", environment="staging")
    assert "'staging'" in str(caught.value)
    assert "sandbox, production" in str(caught.value)


@pytest.mark.parametrize(
    ("environment", "url"),
    [
        (None, "https://sandbox.toloka.dev"),
        ("sandbox", "https://sandbox.toloka.dev"),
        (" Production ", "https://toloka.dev"),
    ],
)
def test_environments(environment: str | None, url: str) -> None:
    config = ClientConfig.from_settings(token="t", environment=environment)
    assert config.base_url == url
    assert config.api_url == url + "/api/v1"
    # a URL wins over the environment
    assert ClientConfig.from_settings(token="t", environment="nope", url="http://127.0.0.1:5").base_url == (
        "http://127.0.0.1:5"
    )


@pytest.mark.parametrize("scheme", ["Bearer", "apikey", "oauth", "Token", ""])
def test_unknown_auth_scheme(scheme: str) -> None:
    if scheme == "":  # empty means the default
        assert ClientConfig.from_settings(token="t", auth_scheme=scheme).auth_scheme == "ApiKey"
        return
    with pytest.raises(TolokaConfigError, match=f"Unknown auth_scheme '{scheme}': use one of ApiKey, OAuth"):
        ClientConfig.from_settings(token="t", auth_scheme=scheme)


@pytest.mark.parametrize(
    "url",
    [
        "http://exa mple",
        "ftp://x",
        "http://:99999",
        "http://host:99999",
        "http://",
        "https://host?x=1",
        "https://host#frag",
        "http://host:0",
        "http://[::1",
        "://nohost",
        " ",
    ],
)
def test_malformed_host(url: str) -> None:
    with pytest.raises(TolokaConfigError) as caught:
        ClientConfig(token="t", base_url=url)
    assert "Malformed Toloka base URL" in str(caught.value)
    assert repr(url) in str(caught.value)


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/api/v1", "http://127.0.0.1:8765"),
        ("https://sandbox.toloka.dev/api/v1/", "https://sandbox.toloka.dev"),
        ("toloka.dev", "https://toloka.dev"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://proxy.example/toloka/", "https://proxy.example/toloka"),
    ],
)
def test_base_url_is_normalized(url: str, normal: str) -> None:
    assert normalize_base_url(url) == normal


def _writes(emulator: TolokaEmulator) -> tuple[int, int, int, int]:
    state = emulator.state
    return len(state.projects), len(state.pools), state.task_count(), len(state.operations)


def test_project_without_public_name(client: TolokaClient, emulator: TolokaEmulator, shoes_project) -> None:
    del shoes_project["public_name"]
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError) as caught:
        client.create_project(shoes_project)
    assert str(caught.value).startswith("Invalid project: public_name: VALUE_REQUIRED")
    assert caught.value.errors["public_name"]["code"] == "VALUE_REQUIRED"
    assert _writes(emulator) == before


def test_project_with_an_unknown_field_type(client: TolokaClient, emulator: TolokaEmulator, shoes_project) -> None:
    shoes_project["task_spec"]["input_spec"]["image"]["type"] = "picture"
    shoes_project["public_name"] = ""
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError, match=r"task_spec.input_spec.image.type: VALUE_NOT_ALLOWED"):
        client.create_project(shoes_project, idempotency_key="never-created")
    assert _writes(emulator) == before


@pytest.fixture
def category_pool(client: TolokaClient, shoes_project, shoes_pool) -> str:
    """A pool whose project has a required url ``image`` and an optional ``category`` with allowed values."""
    shoes_project["task_spec"]["input_spec"]["category"] = {
        "type": "string",
        "required": False,
        "allowed_values": ["boots", "sneakers"],
    }
    project = client.create_project(shoes_project)
    return client.create_pool(shoes_pool(project.id)).id


@pytest.mark.parametrize(
    ("bad", "field", "code"),
    [
        ({"image": "https://e/x.jpg", "colour": "red"}, "input_values.colour", "VALUE_NOT_ALLOWED"),
        ({"category": "boots"}, "input_values.image", "VALUE_REQUIRED"),
        ({"image": "https://e/x.jpg", "category": "sandals"}, "input_values.category", "VALUE_NOT_ALLOWED"),
        ({"image": ["https://e/x.jpg"]}, "input_values.image", "STRING_EXPECTED"),
    ],
)
@pytest.mark.parametrize("async_mode", [True, False])
def test_input_values_not_matching_the_input_spec(
    client: TolokaClient,
    emulator: TolokaEmulator,
    category_pool: str,
    bad: dict[str, Any],
    field: str,
    code: str,
    async_mode: bool,
) -> None:
    tasks = [{"image": f"https://e/{i}.jpg", "category": "boots"} for i in range(6)]
    tasks[4] = bad
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError) as caught:
        client.create_tasks(tasks, category_pool, async_mode=async_mode, batch_size=10)
    message = str(caught.value)
    assert message.startswith(f"tasks[4] is invalid: {field}: {code}")
    assert "skip_invalid_items=True" in message
    assert caught.value.errors == {"4": {field: {"code": code, "message": caught.value.errors["4"][field]["message"]}}}
    assert _writes(emulator) == before
    with pytest.raises(TolokaValidationError, match=rf"upload.jsonl\[4\] is invalid: {field}"):
        client.check_tasks(tasks, category_pool, source="upload.jsonl")


def test_an_invalid_task_in_a_list_stops_the_upload_before_any_request(
    client: TolokaClient, category_pool: str, emulator: TolokaEmulator
) -> None:
    """A list is in memory already: it is checked whole before the first batch is sent."""
    tasks = [{"image": f"https://e/{i}.jpg"} for i in range(9)]
    tasks[7] = {"image": 7}
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError, match=r"tasks\[7\] is invalid.*Neither it nor any task after it"):
        client.create_tasks(tasks, category_pool, batch_size=3)
    assert _writes(emulator) == before
    assert list(client.iter_tasks(category_pool)) == []


def test_a_later_invalid_batch_stops_the_stream_with_earlier_batches_sent(
    client: TolokaClient, category_pool: str
) -> None:
    """Validation streams with the upload: batches before the invalid task are already sent (check_tasks first)."""
    tasks = [{"image": f"https://e/{i}.jpg"} for i in range(9)]
    tasks[7] = {"image": 7}
    with pytest.raises(TolokaValidationError, match=r"tasks\[7\] is invalid.*Neither it nor any task after it"):
        client.create_tasks(iter(tasks), category_pool, batch_size=3, wait=True)
    page = client.http.request("GET", "/operations", params={"sort": "-submitted", "limit": 2})
    latest = [client.wait_operation(item["id"], timeout=10, poll_interval=0.05) for item in page["items"]]
    assert [operation.type for operation in latest] == ["TASK.BATCH_CREATE"] * 2
    assert sum(operation.details.success_count for operation in latest) == 6
    assert [task["input_values"]["image"] for task in client.iter_tasks(category_pool)] == [
        f"https://e/{i}.jpg" for i in range(6)
    ]


def test_pool_that_does_not_exist(client: TolokaClient, emulator: TolokaEmulator) -> None:
    before = _writes(emulator)
    with pytest.raises(TolokaNotFoundError) as caught:
        client.create_tasks([{"image": "https://e/1.jpg"}], "404404404")
    assert caught.value.status == 404
    assert caught.value.code == "DOES_NOT_EXIST"
    assert "Pool 404404404 does not exist" in str(caught.value)
    assert "GET /pools/404404404" in str(caught.value)
    assert _writes(emulator) == before


def test_task_without_any_pool_id(client: TolokaClient, emulator: TolokaEmulator) -> None:
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError, match=r"tasks\[0\]: no pool_id"):
        client.create_tasks([{"image": "https://e/1.jpg"}])
    with pytest.raises(TolokaValidationError, match=r"tasks\[1\]: a task must be an object, got str"):
        client.create_tasks([{"input_values": {"image": "https://e/1.jpg"}, "pool_id": "1"}, "oops"], validate=False)
    assert _writes(emulator) == before


def test_jsonl_line_that_is_not_json(client: TolokaClient, emulator: TolokaEmulator, pool_id: str, tmp_path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"image": "https://e/1.jpg"}) + "\n" + "{'image': 'x'}\n", encoding="utf-8")
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError) as caught:
        client.create_tasks(iter_task_file(path), pool_id, batch_size=100, source=str(path))
    assert f"{path}, line 2: not valid JSON" in str(caught.value)
    assert _writes(emulator) == before


def test_broken_json_array_file(client: TolokaClient, emulator: TolokaEmulator, pool_id: str, tmp_path: Path) -> None:
    path = tmp_path / "tasks.json"
    path.write_text('[{"image": "https://e/1.jpg"}, {"image": "https://e/2.jpg"}, {"image": ', encoding="utf-8")
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError) as caught:
        client.create_tasks(iter_task_file(path), pool_id, batch_size=100)
    assert str(path) in str(caught.value)
    assert "item 2 is not valid JSON" in str(caught.value)
    assert _writes(emulator) == before


def test_input_validator_rejects_a_broken_spec() -> None:
    with pytest.raises(ValueError, match=r"input_spec\.image\.type"):
        InputValidator({"image": {"type": "picture"}})
    with pytest.raises(ValueError, match="non-empty object"):
        InputValidator({})


@pytest.mark.parametrize(
    ("spec", "value", "code"),
    [
        ({"type": "integer", "min_value": 1}, 0, "VALUE_LESS_THAN_MIN"),
        ({"type": "integer", "max_value": 10}, 11, "VALUE_GREATER_THAN_MAX"),
        ({"type": "integer"}, True, "INTEGER_EXPECTED"),
        ({"type": "integer"}, 1.5, "INTEGER_EXPECTED"),
        ({"type": "float"}, "1.5", "FLOAT_EXPECTED"),
        ({"type": "string", "min_length": 3}, "ab", "STRING_LENGTH_LESS_THAN_MIN"),
        ({"type": "string", "max_length": 3}, "abcd", "STRING_LENGTH_GREATER_THAN_MAX"),
        ({"type": "boolean"}, 1, "BOOLEAN_EXPECTED"),
        ({"type": "array_integer"}, [1, "2"], "INTEGER_EXPECTED"),
        ({"type": "ARRAY_STRING", "allowed_values": ["a"]}, ["a", "b"], "VALUE_NOT_ALLOWED"),
        ({"type": "array_url"}, "https://e/1", "ARRAY_EXPECTED"),
    ],
)
def test_input_validator_codes(spec: dict[str, Any], value: Any, code: str) -> None:
    validator = InputValidator({"field": spec})
    problems = validator.validate_task({"input_values": {"field": value}})
    assert problems is not None and problems["input_values.field"]["code"] == code


def test_input_validator_accepts_valid_values() -> None:
    validator = InputValidator(
        {
            "n": {"type": "integer", "min_value": 0, "max_value": 5},
            "x": {"type": "float"},
            "tags": {"type": "array_string", "allowed_values": ["a", "b"]},
            "meta": {"type": "json"},
            "opt": {"type": "string", "required": False},
        }
    )
    assert validator.validate_task({"input_values": {"n": 5, "x": 2, "tags": ["a", "b"], "meta": {"k": [1]}}}) is None
    assert validator.validate_task({"input_values": {"n": 0, "x": 0.5, "tags": [], "meta": 1}, "overlap": 3}) is None
    problems = validator.validate_task({"input_values": {"n": 1, "x": 1, "tags": [], "meta": 0}, "overlap": 0})
    assert problems == {"overlap": {"code": "VALUE_LESS_THAN_MIN", "message": "overlap must be at least 1"}}


@pytest.mark.parametrize("name", ["connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), "10", True])
def test_timeouts_must_be_positive_seconds(name: str, value: Any) -> None:
    with pytest.raises(TolokaConfigError, match=f"{name} must be a positive number of seconds"):
        ClientConfig(token="t", **{name: value})
    assert ClientConfig(token="t", **{name: 0.5}).timeout[name == "read_timeout"] == 0.5
