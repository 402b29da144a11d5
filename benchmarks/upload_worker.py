"""One upload, measured, in a fresh process: ``python -m benchmarks.upload_worker '<json options>'``.

Modes:

* ``ours``: ``TolokaClient.create_tasks`` (async mode, batches of 10,000, deterministic operation
  ids, ``wait=True``), with or without local validation;
* ``raw``: the ceiling: the same task dicts in the same batches as the client's (by count and by
  the API's request size limit; the split is computed before the measurement), ``json.dumps`` of
  each batch once, posted with one ``requests.Session`` to
  ``POST /api/v1/tasks?async_mode=true&operation_id=...``, then every operation polled the way
  ``TolokaClient.wait_operation`` polls; no validation, no models.

Sources: ``gen`` (a generator building the dicts), ``list`` (the same dicts built in a list before the
measurement starts: the upload alone) or ``jsonl`` (a file, parsed line by line: ``files.iter_task_file``
for ours, ``json.loads`` per line for raw).

Only the upload is measured: imports, the session, the emulator setup and a prebuilt list are not.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from itertools import islice
from typing import Any

from benchmarks.measure import Meter, emit
from benchmarks.tasks import BATCH_SIZE, TOKEN, generate, iter_jsonl_dicts


def source_of(options: dict[str, Any], ours: bool) -> Any:
    """The tasks to upload; call it before the meter starts (a ``list`` source is built here, unmeasured)."""
    if options["source"] == "gen":
        return generate(options["count"], options["pool_id"])
    if options["source"] == "list":
        return list(generate(options["count"], options["pool_id"]))
    if ours:
        from airflow_provider_toloka.client.files import iter_task_file

        return iter_task_file(options["path"])
    return iter_jsonl_dicts(options["path"])


def run_ours(options: dict[str, Any]) -> dict[str, Any]:
    from airflow_provider_toloka.client.client import TolokaClient
    from airflow_provider_toloka.client.config import ClientConfig
    from airflow_provider_toloka.client.operations import totals

    client = TolokaClient(ClientConfig(token=TOKEN, base_url=options["url"]))
    client.get_requester()  # opens the pooled connection, like the raw run's warm-up
    tasks = source_of(options, ours=True)
    meter = Meter().start()
    result = client.create_tasks(
        tasks,
        options["pool_id"],
        idempotency_key=f"bench/{uuid.uuid4()}",
        batch_size=options.get("batch_size") or BATCH_SIZE,
        validate=options["validate"],
        wait=True,
        source=options["source"],
    )
    created = totals(result.operations)["success_count"]
    return meter.stop(tasks_sent=result.tasks_sent, tasks_created=created, operations=len(result.operation_ids))


def wait_raw(session: Any, api: str, operation_id: str, poll_interval: float = 5.0) -> dict[str, Any]:
    """Poll like ``TolokaClient.wait_operation``: pauses from 0.1 s doubling up to ``poll_interval``."""
    pause = 0.1
    deadline = time.monotonic() + 3600
    while True:
        response = session.get(f"{api}/operations/{operation_id}", timeout=(10, 120))
        response.raise_for_status()
        operation = response.json()
        if operation["status"] in ("SUCCESS", "FAIL"):
            if operation["status"] == "FAIL":
                raise RuntimeError(f"operation {operation_id} failed: {operation}")
            return operation
        if time.monotonic() > deadline:
            raise TimeoutError(operation_id)
        time.sleep(pause)
        pause = min(pause * 2, poll_interval)


def batch_plan(options: dict[str, Any]) -> list[int]:
    """How many tasks each request of the client's upload holds (split by count and by size)."""
    from airflow_provider_toloka.client.batching import TaskBatcher

    batcher = TaskBatcher(batch_size=options.get("batch_size") or BATCH_SIZE, pool_id=options["pool_id"])
    return [batch.count for batch in batcher.batches(source_of(options, ours=False))]


def run_raw(options: dict[str, Any]) -> dict[str, Any]:
    import requests

    api = options["url"] + "/api/v1"
    session = requests.Session()
    session.headers.update({"Authorization": f"ApiKey {TOKEN}", "Content-Type": "application/json"})
    session.get(f"{api}/requester", timeout=(10, 120)).raise_for_status()
    plan = batch_plan(options)
    tasks = source_of(options, ours=False)
    meter = Meter().start()
    operation_ids, sent = [], 0
    stream = iter(tasks)
    for size in plan:
        chunk = list(islice(stream, size))
        operation_id = str(uuid.uuid4())
        response = session.post(
            f"{api}/tasks",
            params={"async_mode": "true", "operation_id": operation_id},
            data=json.dumps(chunk).encode(),
            timeout=(10, 120),
        )
        if response.status_code not in (201, 202):
            raise RuntimeError(f"POST /tasks answered {response.status_code}: {response.text[:500]}")
        operation_ids.append(response.json()["id"])
        sent += len(chunk)
    created = sum(wait_raw(session, api, operation_id)["details"]["success_count"] for operation_id in operation_ids)
    return meter.stop(tasks_sent=sent, tasks_created=created, operations=len(operation_ids))


def main(argv: list[str]) -> int:
    options = json.loads(argv[0])
    runner = {"ours": run_ours, "raw": run_raw}[options["mode"]]
    emit(runner(options))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
