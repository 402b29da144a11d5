"""The emulator's own intake rate: pre-serialized batches posted back to back (client work ~ nil).

Tasks a second of wall time from the first POST to the last answer (operations finish at once:
``operation_delay=0``, so the tasks are validated and stored within the requests), and tasks per
CPU second of the emulator process (from its counters). The upload benchmarks' client rates are
compared with it to show whether the emulator is the bottleneck of their wall times.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from benchmarks.common import Api, emulator
from benchmarks.tasks import BATCH_SIZE, make_task


def measure(total: int = 1_000_000, batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    with emulator(operation_delay=0.0, tasks_per_minute=10**12) as emu:
        api = Api(emu.url)
        pool_id = api.new_pool()
        bodies = [
            json.dumps([make_task(start + n, pool_id) for n in range(batch_size)]).encode()
            for start in range(0, min(total, 10 * batch_size), batch_size)
        ]
        before = api.stats(reset=True)
        started = time.perf_counter()
        sent = 0
        for number in range(0, total, batch_size):
            response = api.session.post(
                f"{api.api}/tasks",
                data=bodies[(number // batch_size) % len(bodies)],
                params={"async_mode": "true", "operation_id": str(uuid.uuid4())},
                timeout=120,
            )
            if response.status_code not in (201, 202):  # 201 as the reference gives it
                raise RuntimeError(f"POST /tasks answered {response.status_code}: {response.text[:300]}")
            sent += batch_size
        wall = time.perf_counter() - started
        after = api.stats()
    cpu = after["cpu_user"] + after["cpu_sys"] - before["cpu_user"] - before["cpu_sys"]
    return {
        "tasks": sent,
        "wall_s": wall,
        "tasks_per_s": sent / wall,
        "emulator_cpu_s": cpu,
        "tasks_per_emulator_cpu_s": sent / cpu,
        "emulator_rss_mb": after["rss_mb"],
    }


if __name__ == "__main__":
    print(json.dumps(measure(200_000), indent=1))
