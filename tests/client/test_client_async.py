"""AsyncTolokaClient: the reads triggers poll with, against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_toloka.client.async_client import AsyncTolokaClient
from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy
from airflow_provider_toloka.client.errors import TolokaNotFoundError
from airflow_provider_toloka.client.models import Operation, Pool
from airflow_provider_toloka.testing import TolokaEmulator

FAST = RetryPolicy(max_attempts=10, backoff_base=0.01, backoff_max=0.05)


def test_reads_an_operation_its_log_and_a_pool(client: TolokaClient, pool_id: str) -> None:
    upload = client.create_tasks([{"image": f"https://e/{i}.jpg"} for i in range(3)], pool_id, batch_size=3)
    operation_id = upload.operation_ids[0]

    async def poll() -> tuple[list[Operation], list[dict[str, Any]], Pool]:
        seen = []
        async with AsyncTolokaClient(client.config) as async_client:
            while True:
                operation = await async_client.get_operation(operation_id)
                seen.append(operation)
                if operation.is_done:
                    break
                await asyncio.sleep(0.01)
            log = await async_client.get_operation_log(operation_id)
            pool = await async_client.get_pool(pool_id)
        return seen, log, pool

    seen, log, pool = asyncio.run(poll())
    assert seen[-1].status == "SUCCESS" and seen[-1].progress == 100
    assert seen[-1].type == "TASK.BATCH_CREATE" and seen[-1].id == operation_id
    assert all(operation.status in ("PENDING", "RUNNING") for operation in seen[:-1])
    assert seen[-1].details.success_count == 3
    assert [line["output"]["task_id"] for line in log] == [task["id"] for task in client.iter_tasks(pool_id)]
    assert isinstance(pool, Pool) and pool.id == pool_id and pool.status == "CLOSED"
    assert pool.model_extra["owner"]["id"] == "emulator-requester"


def test_missing_objects(client: TolokaClient) -> None:
    async def read(kind: str) -> None:
        async with AsyncTolokaClient(client.config) as async_client:
            if kind == "pool":
                await async_client.get_pool("31337")
            else:
                await async_client.get_operation("00000000-0000-0000-0000-000000000000")

    for kind in ("pool", "operation"):
        with pytest.raises(TolokaNotFoundError) as caught:
            asyncio.run(read(kind))
        assert caught.value.status == 404
        assert "does not exist" in str(caught.value)


def test_async_reads_survive_faults(make_client, shoes_project, shoes_pool) -> None:
    with TolokaEmulator(fail_rate=0.4, seed=11, operation_delay=0.0) as emulator:
        client = make_client(emulator.url, token="any", max_attempts=10)
        project = client.create_project(shoes_project, idempotency_key="async-faults")
        pool = client.create_pool(shoes_pool(project.id), idempotency_key="async-faults")
        config = ClientConfig(token="any", base_url=emulator.url, retry=FAST)

        async def read_many() -> list[str]:
            async with AsyncTolokaClient(config) as async_client:
                return [(await async_client.get_pool(pool.id)).id for _ in range(30)]

        faults_before = sum(emulator.fault_counts.values())
        assert asyncio.run(read_many()) == [pool.id] * 30
        assert sum(emulator.fault_counts.values()) - faults_before >= 5
