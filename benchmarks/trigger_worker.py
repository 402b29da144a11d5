"""Many ``TolokaOperationTrigger``s in one event loop, measured, in a fresh process.

``python -m benchmarks.trigger_worker '<json options>'`` with ``AIRFLOW_CONN_TOLOKA_DEFAULT``
pointing at the emulator (the triggers read it through ``TolokaHook.aget_client``, Airflow's
async connection lookup, exactly as in the triggerer).

It submits one single-task TASK.BATCH_CREATE operation per trigger (not measured), then runs
every trigger's ``run()`` concurrently until each has fired its event, sampling RSS meanwhile.
The emulator's request counters (reset just before the triggers start) tell how many
``GET /operations/{id}`` the triggers really sent; the expected number follows from each
operation's due time and the poll interval.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
import uuid
from typing import Any

import requests

from benchmarks.measure import Meter, emit, rss_mb
from benchmarks.tasks import TOKEN, make_task


def submit_operations(url: str, pool_id: str, count: int) -> list[tuple[str, float]]:
    """``count`` async single-task uploads: [(operation id, due time as time.time())]."""
    session = requests.Session()
    session.headers.update({"Authorization": f"OAuth {TOKEN}", "Content-Type": "application/json"})
    submitted = []
    for n in range(count):
        operation_id = str(uuid.uuid4())
        response = session.post(
            f"{url}/api/v1/tasks",
            params={"async_mode": "true", "operation_id": operation_id},
            data=json.dumps([make_task(n, pool_id)]),
            timeout=30,
        )
        response.raise_for_status()
        submitted.append(operation_id)
    return submitted


def stats(url: str, reset: bool = False) -> dict[str, Any]:
    method = requests.post if reset else requests.get
    response = method(f"{url}/_bench/{'reset' if reset else 'stats'}", timeout=30)
    response.raise_for_status()
    return response.json()


async def run_all(triggers: list[Any], samples: list[float], timeout: float) -> list[dict[str, Any]]:
    async def drive(trigger: Any) -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise RuntimeError("the trigger ended without an event")

    async def sample() -> None:
        while True:
            samples.append(rss_mb())
            await asyncio.sleep(0.1)

    sampler = asyncio.ensure_future(sample())
    try:
        return await asyncio.wait_for(asyncio.gather(*(drive(trigger) for trigger in triggers)), timeout)
    finally:
        sampler.cancel()


def share_ssl_context() -> None:
    """Make every ``AsyncTolokaClient`` reuse one SSL context (a what-if, kept for comparison).

    ``httpx.AsyncClient()`` built a new SSL context and loaded the CA bundle each time: about
    20 ms of CPU and 0.8 MB per client, that is per trigger; the package now shares one context.
    """
    import functools
    import ssl

    import certifi
    import httpx

    from airflow_provider_toloka.client import async_client

    context = ssl.create_default_context(cafile=certifi.where())
    async_client.httpx = type(
        "httpx",
        (),
        {
            "AsyncClient": functools.partial(httpx.AsyncClient, verify=context),
            "Timeout": httpx.Timeout,
            "TransportError": httpx.TransportError,
        },
    )


def main(argv: list[str]) -> int:
    options = json.loads(argv[0])
    from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger

    if options.get("shared_ssl"):
        share_ssl_context()
    url, count, interval = options["url"], options["count"], options["poll_interval"]
    delay = options["operation_delay"]
    operation_ids = submit_operations(url, options["pool_id"], count)
    # Each operation is due ``delay`` seconds after its POST; the last POST is the latest.
    submitted_at = time.time()
    triggers = [TolokaOperationTrigger([operation_id], poll_interval=interval) for operation_id in operation_ids]
    stats(url, reset=True)
    samples: list[float] = []
    meter = Meter().start()
    started = time.time()
    events = asyncio.run(run_all(triggers, samples, timeout=delay + 20 * interval + 120))
    result = meter.stop()
    counts = stats(url)["requests"]
    polls = sum(value for key, value in counts.items() if key.startswith("GET /operations/{id} "))
    errors = sum(value for key, value in counts.items() if not key.endswith(" 200"))
    # A trigger polls at 0, P, 2P, ... and stops at the first poll at or after its due time.
    remaining = max(submitted_at + delay - started, 0.0)
    expected_max = count * (math.floor(remaining / interval) + 2)
    statuses: dict[str, int] = {}
    for event in events:
        statuses[event["status"]] = statuses.get(event["status"], 0) + 1
    result.update(
        triggers=count,
        poll_interval_s=interval,
        events=statuses,
        polls=polls,
        polls_expected_max=expected_max,
        non_200_answers=errors,
        # every poll after a trigger's first one is paced by poll_interval: their rate must not exceed count/P
        poll_rate_per_s=max(polls - count, 0) / result["wall_s"],
        configured_poll_rate_per_s=count / interval,
        cpu_ms_per_trigger=1000 * result["cpu_s"] / count,
        cpu_ms_per_poll=1000 * result["cpu_s"] / max(polls, 1),
        shared_ssl=bool(options.get("shared_ssl")),
        rss_peak_mb=max(samples) if samples else result["peak_rss_mb"],
        kb_per_trigger=1024
        * ((max(samples) if samples else result["peak_rss_mb"]) - result["baseline_rss_mb"])
        / count,
    )
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
