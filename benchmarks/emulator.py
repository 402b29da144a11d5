"""The emulator with request counters, for the benchmarks: ``python -m benchmarks.emulator``.

It is the package's emulator (same app, same limits and faults) wrapped in one more ASGI layer
that counts requests by route and status, and answers ``GET /_bench/stats`` (counts, plus the
emulator process's own CPU seconds and RSS) and ``POST /_bench/reset``. The counters sit outside
the ``rps`` limit, so the 429 answers it sends are counted too, and the stats calls are not limited.
"""

from __future__ import annotations

import json
import re
import resource
import sys
from collections import Counter
from typing import Any

from airflow_provider_toloka.testing.emulator import READY_PREFIX
from airflow_provider_toloka.testing.emulator import main as emulator_main
from airflow_provider_toloka.testing.process import EmulatorProcess

STATS_PATH = "/_bench/stats"
RESET_PATH = "/_bench/reset"
_ID = re.compile(r"/[0-9A-Za-z][0-9A-Za-z-]*(?=/|$)")
_ROUTES = ("/tasks", "/operations", "/pools", "/projects", "/requester", "/assignments")


def route_of(path: str) -> str:
    """``/api/v1/operations/<uuid>/log`` -> ``/operations/{id}/log``."""
    path = path.removeprefix("/api/v1")
    for root in _ROUTES:
        if path == root:
            return root
        if path.startswith(root + "/"):
            return root + _ID.sub("/{id}", path[len(root) :], count=1)
    return path


def process_stats() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/self/statm") as handle:
        rss_pages = int(handle.read().split()[1])
    return {"cpu_user": usage.ru_utime, "cpu_sys": usage.ru_stime, "rss_mb": rss_pages * resource.getpagesize() / 2**20}


class CountingMiddleware:
    """Counts ``"METHOD /route STATUS"`` of every answered request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in (STATS_PATH, RESET_PATH):
            body = json.dumps({"requests": dict(self.counts), **process_stats()}).encode()
            if path == RESET_PATH:
                self.counts.clear()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        key = f"{scope['method']} {route_of(path)}"

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.counts[f"{key} {message['status']}"] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def main(argv: list[str] | None = None) -> int:
    """Like ``toloka-emulator``, with the counters."""
    return emulator_main(argv, wrap_app=CountingMiddleware)


class CountingEmulatorProcess(EmulatorProcess):
    """``EmulatorProcess`` running this module instead of the plain emulator CLI."""

    def command(self) -> list[str]:
        return [
            part if part != "airflow_provider_toloka.testing.emulator" else "benchmarks.emulator"
            for part in super().command()
        ]


assert READY_PREFIX  # the child prints the same ready line as the package's CLI

if __name__ == "__main__":
    sys.exit(main())
