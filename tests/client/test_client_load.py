"""Concurrent uploads against one rate- and quota-limited API: all complete, exactly once, no 429 to the caller.

A small version of the load run in the benchmarks (20 x 50,000 tasks): several uploads at once
contend for a request rate and a task quota; every 429 is waited out (with jitter) inside the client.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_provider_toloka.testing import TolokaEmulator

UPLOADS, TASKS, BATCH = 5, 2_000, 400


def test_concurrent_uploads_share_the_quota_and_each_task_arrives_once(
    make_client, shoes_project, shoes_pool, caplog
) -> None:
    # 5 x 2,000 tasks against 4,000 tasks per 1-second window and 8 requests per second
    with TolokaEmulator(operation_delay=0.05, tasks_per_minute=4_000, quota_window=1.0, rps=8) as emulator:
        setup = make_client(emulator.url, token="any", max_attempts=10)
        project_id = setup.create_project(shoes_project).id
        pools = [setup.create_pool(shoes_pool(project_id)).id for _ in range(UPLOADS)]

        def upload(n: int) -> Any:
            client = make_client(emulator.url, token="any", max_attempts=10)
            tasks = [{"image": f"https://example.com/{n}/{i}.jpg"} for i in range(TASKS)]
            return client.create_tasks(tasks, pools[n], idempotency_key=f"load-{n}", batch_size=BATCH, wait=True)

        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="airflow_provider_toloka"), ThreadPoolExecutor(UPLOADS) as pool:
            results = list(pool.map(upload, range(UPLOADS)))
        elapsed = time.monotonic() - started
        assert all(r.tasks_sent == TASKS and all(op.status == "SUCCESS" for op in r.operations) for r in results)
        for n, pool_id in enumerate(pools):
            images = [t["input_values"]["image"] for t in setup.iter_tasks(pool_id)]
            assert sorted(images) == sorted(f"https://example.com/{n}/{i}.jpg" for i in range(TASKS))
        assert "answered 429" in caplog.text  # the limits were hit, and absorbed
        assert elapsed < 60
