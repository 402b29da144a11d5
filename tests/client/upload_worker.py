"""A worker that uploads a .jsonl tasks file with a fixed key, for the ``kill -9`` tests.

``python upload_worker.py URL TOKEN POOL_ID KEY FILE BATCH_SIZE SEED``: reads the file, shuffles
it when SEED >= 0, uploads it and waits for the operations; prints ``row N`` to stdout for every
``REPORT_EVERY`` rows the client has taken, so the test can kill it at a chosen point.
"""

from __future__ import annotations

import json
import logging
import random
import sys
from collections.abc import Iterator
from typing import Any

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy

REPORT_EVERY = 50


def reporting(tasks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for index, task in enumerate(tasks):
        if index % REPORT_EVERY == 0:
            print(f"row {index}", flush=True)
        yield task


def main(url: str, token: str, pool_id: str, key: str, path: str, batch_size: str, seed: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    with open(path, encoding="utf-8") as lines:
        tasks = [json.loads(line) for line in lines]
    if int(seed) >= 0:
        random.Random(int(seed)).shuffle(tasks)
    retry = RetryPolicy(backoff_base=0.01, backoff_max=0.1, max_total_seconds=30.0)
    client = TolokaClient(ClientConfig(token=token, base_url=url, retry=retry))
    print("started", flush=True)
    result = client.create_tasks(
        reporting(tasks), pool_id, idempotency_key=key, batch_size=int(batch_size), wait=True, wait_timeout=60
    )
    print(f"done sent={result.tasks_sent} present={result.tasks_already_present}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
