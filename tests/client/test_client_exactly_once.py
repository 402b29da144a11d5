"""Exactly once under injected faults: 500s, 503s and connections dropped after the server acted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from quickstart import UNLIMITED_QUOTAS

from airflow_provider_toloka.client.client import IDEMPOTENCY_METADATA_KEY, TolokaClient
from airflow_provider_toloka.testing import TolokaEmulator

TASKS = 2_000


@pytest.fixture(scope="module", params=[20240601, 7, 4242])
def faulty(request: pytest.FixtureRequest) -> Iterator[TolokaEmulator]:
    seed = request.param
    with TolokaEmulator(fail_rate=0.3, seed=seed, operation_delay=0.02, **UNLIMITED_QUOTAS) as emulator:
        yield emulator


@pytest.fixture
def faulty_client(faulty: TolokaEmulator, make_client) -> TolokaClient:
    # 0.3 ** 10: a request failing on every attempt is out of the question
    return make_client(faulty.url, token="any", max_attempts=10)


def listed(client: TolokaClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every object of a GET list, paged by id, through the retrying client."""
    return list(client._iter_list(path, params, 50))


def test_project_pool_and_upload_exactly_once_under_faults(
    faulty: TolokaEmulator, faulty_client: TolokaClient, shoes_project, shoes_pool
) -> None:
    client = faulty_client
    projects = [client.create_project(shoes_project, idempotency_key="faulty-project") for _ in range(3)]
    assert len({project.id for project in projects}) == 1
    project_id = projects[0].id
    keyed = [
        item
        for item in listed(client, "/projects")
        if (item.get("metadata") or {}).get(IDEMPOTENCY_METADATA_KEY) == ["faulty-project"]
    ]
    assert [item["id"] for item in keyed] == [project_id]

    pools = [client.create_pool(shoes_pool(project_id), idempotency_key="faulty-pool") for _ in range(3)]
    assert len({pool.id for pool in pools}) == 1
    assert [item["id"] for item in listed(client, "/pools", project_id=project_id)] == [pools[0].id]
    pool_id = pools[0].id

    tasks = ({"input_values": {"image": f"https://example.com/{i}.jpg"}} for i in range(TASKS))
    result = client.create_tasks(
        tasks, pool_id, batch_size=100, idempotency_key="faulty-upload", wait=True, wait_timeout=60
    )
    assert len(result.operation_ids) == TASKS // 100
    assert result.tasks_sent == TASKS
    assert all(operation.status == "SUCCESS" for operation in result.operations)

    created = [task["input_values"]["image"] for task in client.iter_tasks(pool_id, page_size=500)]
    assert len(created) == TASKS
    assert Counter(created).most_common(1)[0][1] == 1
    assert set(created) == {f"https://example.com/{i}.jpg" for i in range(TASKS)}
    assert faulty.state.task_count(pool_id) == TASKS

    # every kind of fault happened, dropped connections after the server acted included
    assert set(faulty.fault_counts) == {"INTERNAL_ERROR", "REMOTE_SERVICE_UNAVAILABLE", "CONNECTION_DROPPED"}
    assert min(faulty.fault_counts.values()) >= 3

    # the same upload again, under faults: nothing new
    again = client.create_tasks(
        ({"input_values": {"image": f"https://example.com/{i}.jpg"}} for i in range(TASKS)),
        pool_id,
        batch_size=100,
        idempotency_key="faulty-upload",
    )
    assert again.operation_ids == result.operation_ids
    assert faulty.state.task_count(pool_id) == TASKS


def test_sync_reads_and_pool_actions_survive_faults(faulty_client: TolokaClient, shoes_project, shoes_pool) -> None:
    client = faulty_client
    project = client.create_project(shoes_project, idempotency_key="faulty-project-2")
    pool = client.create_pool(shoes_pool(project.id), idempotency_key="faulty-pool-2")
    client.create_tasks([{"image": "https://e/1.jpg"}], pool.id, idempotency_key="one", wait=True)
    for _ in range(20):
        assert client.get_pool(pool.id).id == pool.id
    operation = client.open_pool(pool.id)
    if operation is not None:  # a dropped answer to the first attempt makes the retry find it open
        client.wait_operation(operation.id, timeout=10, poll_interval=0.02)
    assert client.get_pool(pool.id).status == "OPEN"
