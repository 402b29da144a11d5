"""Projects and pools through TolokaClient against the emulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_toloka.client.client import IDEMPOTENCY_METADATA_KEY, TolokaClient
from airflow_provider_toloka.client.errors import (
    TolokaApiValidationError,
    TolokaConflictError,
    TolokaNotFoundError,
    TolokaValidationError,
)
from airflow_provider_toloka.client.models import Operation, Pool, Project
from airflow_provider_toloka.testing import TolokaEmulator


def test_create_and_get_project_keeps_unknown_fields(client: TolokaClient, shoes_project: dict[str, Any]) -> None:
    with pytest.raises(TolokaApiValidationError) as refused:  # the API refuses fields it does not know
        client.create_project({**shoes_project, "future_field": {"nested": [1, 2, 3]}})
    assert refused.value.payload == {"future_field": {"code": "VALUE_NOT_ALLOWED", "message": "Unknown field name"}}
    project = client.create_project(shoes_project)

    assert isinstance(project, Project)
    assert project.id and project.id.isdigit()
    assert project.public_name == "Categories of shoes"
    assert project.status == "ACTIVE"
    assert project.task_spec.input_spec["image"].type == "url"
    assert project.task_spec.output_spec["result"].allowed_values == ["boots", "sneakers", "other", "failed to load"]
    # unknown fields the API adds (owner) are kept, and so are a caller's own in a round trip
    assert project.model_extra["owner"]["id"] == "emulator-requester"
    local = Project.model_validate({**shoes_project, "future_field": {"nested": [1, 2, 3]}})
    assert local.to_api()["future_field"] == {"nested": [1, 2, 3]}

    again = client.get_project(project.id)
    assert again.id == project.id
    assert again.model_extra["owner"] == project.model_extra["owner"]
    assert again.task_spec.view_spec == shoes_project["task_spec"]["view_spec"]


def test_create_and_get_pool_keeps_unknown_fields(client: TolokaClient, shoes_project, shoes_pool) -> None:
    project = client.create_project(shoes_project)
    body = shoes_pool(project.id)
    body["speed_quality_balance"] = {"type": "TOP_PERCENTAGE_BY_QUALITY", "percent": 90}
    pool = client.create_pool(body)

    assert isinstance(pool, Pool)
    assert pool.id and pool.id != project.id
    assert pool.project_id == project.id
    assert pool.status == "CLOSED"
    assert pool.reward_per_assignment == pytest.approx(0.02)
    assert pool.mixer_config is not None and pool.mixer_config.real_tasks_count == 3
    assert pool.defaults is not None and pool.defaults.default_overlap_for_new_task_suites == 3
    assert pool.model_extra["speed_quality_balance"] == {"type": "TOP_PERCENTAGE_BY_QUALITY", "percent": 90}
    assert pool.quality_control == body["quality_control"]

    again = client.get_pool(pool.id)
    assert again.id == pool.id
    assert again.will_expire == pool.will_expire
    assert again.model_extra["speed_quality_balance"]["percent"] == 90


def test_create_pool_accepts_models_and_numeric_project_id(client: TolokaClient, shoes_project, shoes_pool) -> None:
    project = client.create_project(Project.model_validate(shoes_project))
    body = shoes_pool(project.id)
    body["project_id"] = int(project.id)
    pool = client.create_pool(Pool.model_validate(body))
    assert pool.project_id == project.id
    assert client.get_pool(pool.id).project_id == project.id


def test_create_pool_for_unknown_project_is_an_api_validation_error(client: TolokaClient, shoes_pool) -> None:
    with pytest.raises(TolokaApiValidationError) as caught:
        client.create_pool(shoes_pool("987654321"))
    assert caught.value.status == 400
    assert "project_id" in str(caught.value)
    assert caught.value.payload["project_id"]["code"] == "ENTITY_DOES_NOT_EXIST"


def test_open_and_close_pool(client: TolokaClient, pool_id: str) -> None:
    with pytest.raises(TolokaConflictError) as caught:
        client.open_pool(pool_id)
    assert caught.value.code == "EMPTY_POOL"

    client.create_tasks([{"image": "https://example.com/1.jpg"}], pool_id, wait=True)

    operation = client.open_pool(pool_id)
    assert isinstance(operation, Operation)
    assert operation.type == "POOL.OPEN"
    assert operation.parameters == {"pool_id": pool_id}
    finished = client.wait_operation(operation.id, timeout=10, poll_interval=0.05)
    assert finished.status == "SUCCESS"
    assert client.get_pool(pool_id).status == "OPEN"
    assert client.open_pool(pool_id) is None  # already open: 204

    operation = client.close_pool(pool_id)
    assert operation is not None and operation.type == "POOL.CLOSE"
    assert client.wait_operation(operation.id, timeout=10, poll_interval=0.05).status == "SUCCESS"
    pool = client.get_pool(pool_id)
    assert pool.status == "CLOSED"
    assert pool.last_close_reason == "MANUAL"
    assert client.close_pool(pool_id) is None  # already closed: 204


def test_pool_actions_on_missing_pool(client: TolokaClient) -> None:
    for action in (client.open_pool, client.close_pool, client.get_pool):
        with pytest.raises(TolokaNotFoundError) as caught:
            action("55555555")
        assert caught.value.status == 404
        assert "55555555" in str(caught.value)
        assert "Check the id" in str(caught.value)


def _keyed(emulator: TolokaEmulator, kind: str, key: str) -> list[dict[str, Any]]:
    objects = emulator.state.projects if kind == "projects" else emulator.state.pools
    return [obj for obj in list(objects.values()) if (obj.get("metadata") or {}).get(IDEMPOTENCY_METADATA_KEY) == [key]]


def test_idempotency_key_creates_each_object_once(
    client: TolokaClient, emulator: TolokaEmulator, shoes_project, shoes_pool
) -> None:
    shoes_project["metadata"] = {"team": ["labeling"]}
    first = client.create_project(shoes_project, idempotency_key="proj-key-1")
    second = client.create_project(shoes_project, idempotency_key="proj-key-1")
    assert second.id == first.id
    assert first.metadata == {"team": ["labeling"], IDEMPOTENCY_METADATA_KEY: ["proj-key-1"]}
    assert len(_keyed(emulator, "projects", "proj-key-1")) == 1
    other = client.create_project(shoes_project, idempotency_key="proj-key-2")
    assert other.id != first.id

    pool_a = client.create_pool(shoes_pool(first.id), idempotency_key="pool-key-1")
    pool_b = client.create_pool(shoes_pool(first.id), idempotency_key="pool-key-1")
    assert pool_a.id == pool_b.id
    assert len(_keyed(emulator, "pools", "pool-key-1")) == 1
    # without a key every call creates a new object
    assert client.create_pool(shoes_pool(first.id)).id != client.create_pool(shoes_pool(first.id)).id


def test_invalid_pool_is_rejected_before_any_request(
    client: TolokaClient, emulator: TolokaEmulator, shoes_project, shoes_pool
) -> None:
    project = client.create_project(shoes_project)
    body = shoes_pool(project.id)
    del body["private_name"]
    body["reward_per_assignment"] = -1
    pools_before = len(emulator.state.pools)
    with pytest.raises(TolokaValidationError) as caught:
        client.create_pool(body)
    assert "private_name" in str(caught.value)
    assert "reward_per_assignment" in str(caught.value)
    assert set(caught.value.errors) == {"private_name", "reward_per_assignment"}
    assert len(emulator.state.pools) == pools_before


def test_listing_pages_by_id_across_digit_boundaries(client: TolokaClient, shoes_project, shoes_pool) -> None:
    project = client.create_project(shoes_project)
    created = [client.create_pool(shoes_pool(project.id)).id for _ in range(12)]
    listed = [pool["id"] for pool in client._iter_list("/pools", {"project_id": project.id}, 5)]
    assert listed == created
    assert sorted(map(int, listed)) == list(map(int, listed))
