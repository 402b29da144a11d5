"""Sustained upload against the emulator's limits: ``rps`` and a task quota with a short window.

``TolokaClient.create_tasks`` uploads ``windows`` quota windows' worth of tasks; the emulator
answers 429 (with ``Retry-After``) whenever either limit is reached and the client waits and
retries. The accepted time of each batch gives the throughput per quota window cycle
(a cycle: from the first batch accepted in one window to the first accepted in the next),
compared with the allowed rate ``tasks_per_window / quota_window``. Afterwards every task is
read back through ``GET /tasks`` paging: none may be missing or duplicated, and no 429 may have
reached the caller (``create_tasks`` must return normally).
"""

from __future__ import annotations

import logging
import statistics
import time
import uuid
from typing import Any

from benchmarks.common import Api, emulator
from benchmarks.tasks import TOKEN, generate


def measure(
    tasks_per_window: int = 75_000,
    quota_window: float = 15.0,
    rps: float = 5.0,
    windows: int = 3,
    batch_size: int = 10_000,
) -> dict[str, Any]:
    from airflow_provider_toloka.client.client import TolokaClient
    from airflow_provider_toloka.client.config import ClientConfig

    total = tasks_per_window * windows
    per_window = tasks_per_window // batch_size
    with emulator(operation_delay=0.1, rps=rps, tasks_per_minute=tasks_per_window, quota_window=quota_window) as emu:
        api = Api(emu.url)
        pool_id = api.new_pool()
        quiet = logging.getLogger("benchmarks.sustained.client")  # its retry warnings are counted, not printed
        quiet.propagate = False
        quiet.addHandler(logging.NullHandler())
        client = TolokaClient(ClientConfig(token=TOKEN, base_url=emu.url), logger=quiet)
        accepted: list[float] = []
        submit = client._submit_async

        def timed_submit(*args: Any, **kwargs: Any) -> Any:
            operation = submit(*args, **kwargs)
            accepted.append(time.monotonic())
            return operation

        client._submit_async = timed_submit  # type: ignore[method-assign]
        api.stats(reset=True)
        started = time.monotonic()
        error = None
        try:
            result = client.create_tasks(
                generate(total, pool_id),
                pool_id,
                idempotency_key=f"sustained/{uuid.uuid4()}",
                batch_size=batch_size,
                wait=True,
            )
        except Exception as exc:  # a 429 (or anything) reaching the caller is a failure of the benchmark
            error, result = f"{type(exc).__name__}: {exc}", None
        wall = time.monotonic() - started
        counts = api.stats()["requests"]
        stored, distinct_ids, numbers = api.count_tasks(pool_id)
    cycles = [accepted[i] - accepted[i - per_window] for i in range(per_window, len(accepted), per_window)]
    cycle = statistics.mean(cycles) if cycles else float("nan")
    allowed = min(tasks_per_window / quota_window, rps * batch_size)
    achieved = tasks_per_window / cycle if cycles else float("nan")
    return {
        "tasks": total,
        "batch_size": batch_size,
        "rps_limit": rps,
        "tasks_per_window": tasks_per_window,
        "quota_window_s": quota_window,
        "allowed_tasks_per_s": allowed,
        "achieved_tasks_per_s": achieved,
        "achieved_fraction": achieved / allowed,
        "window_cycles_s": [round(c, 2) for c in cycles],
        "wall_s": wall,
        "overall_tasks_per_s": total / wall,
        "sent": result.tasks_sent if result else None,
        "stored": stored,
        "distinct_task_ids": distinct_ids,
        "distinct_inputs": len(numbers),
        "missing": total - len(numbers & set(range(total))),
        "duplicated": stored - len(numbers),
        "error_reaching_user": error,
        "answers_429": sum(v for k, v in counts.items() if k.endswith(" 429")),
        "requests": counts,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
