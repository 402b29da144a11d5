"""One toloka-kit upload, measured, in a fresh process of the toloka-kit venv.

``<tk-venv>/bin/python -m benchmarks.tk_worker '<json options>'``. Imports only toloka-kit and
the standard-library modules of this package. Modes:

* ``tk``: ``TolokaClient.create_tasks(chunk, async_mode=True)`` for each chunk of 10,000 tasks:
  toloka-kit's documented async upload (one TASK.BATCH_CREATE operation a call, waited for, then
  its log and the created tasks read back into ``Task`` objects);
* ``tk-ops``: ``create_tasks_async(chunk)`` for every chunk, then ``wait_operation`` for each:
  toloka-kit's leanest path (no read-back).

The client is ``TolokaClient(token, url=emulator_url)``; ``Task`` objects are built from the
same dicts (``Task(...)`` from the generator, ``Task.structure`` from the JSONL file), which is
part of what toloka-kit costs and so is measured.
"""

from __future__ import annotations

import datetime
import logging
import sys
from typing import Any

from benchmarks.measure import Meter, emit
from benchmarks.tasks import BATCH_SIZE, TOKEN, batched, generate, iter_jsonl_dicts


def main(argv: list[str]) -> int:
    import json

    import toloka.client as toloka

    logging.disable(logging.INFO)  # its progress bars and info logs are not part of the work
    options = json.loads(argv[0])
    client = toloka.TolokaClient(TOKEN, url=options["url"])
    client.get_requester()
    if options["source"] in ("gen", "list"):
        tasks: Any = (
            toloka.Task(pool_id=d["pool_id"], input_values=d["input_values"], overlap=d["overlap"])
            for d in generate(options["count"], options["pool_id"])
        )
        if options["source"] == "list":
            tasks = list(tasks)
    else:
        tasks = (toloka.Task.structure(d) for d in iter_jsonl_dicts(options["path"]))
    meter = Meter().start()
    sent = created = operations = 0
    if options["mode"] == "tk":
        for chunk in batched(tasks, options.get("batch_size") or BATCH_SIZE):
            result = client.create_tasks(chunk, async_mode=True, skip_invalid_items=False)
            sent += len(chunk)
            created += len(result.items)
            operations += 1
    else:
        started = []
        for chunk in batched(tasks, options.get("batch_size") or BATCH_SIZE):
            started.append(client.create_tasks_async(chunk))
            sent += len(chunk)
        for operation in started:
            done = client.wait_operation(operation, timeout=datetime.timedelta(hours=1), disable_progress=True)
            details = done.details if isinstance(done.details, dict) else vars(done.details)
            created += int(details.get("success_count") or 0)
            operations += 1
    emit(meter.stop(tasks_sent=sent, tasks_created=created, operations=operations))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
