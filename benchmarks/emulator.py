"""The emulator with request counters, for the benchmarks: ``python -m benchmarks.emulator``.

It is the package's emulator (same app, same limits and faults) wrapped in one more ASGI layer
that counts requests by route and status, and answers ``GET /_bench/stats`` (counts, plus the
emulator process's own CPU seconds and RSS) and ``POST /_bench/reset``. The counters sit outside
the ``rps`` limit, so the 429 answers it sends are counted too, and the stats calls are not limited.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import socket
import sys
from collections import Counter
from typing import Any

from airflow_provider_toloka.testing.config import EmulatorConfig
from airflow_provider_toloka.testing.emulator import READY_PREFIX, _serve, build_parser
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
            return root + _ID.sub("/{id}", path[len(root):], count=1)
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
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        key = f"{scope['method']} {route_of(path)}"

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.counts[f"{key} {message['status']}"] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def bind_tcp_socket(host: str, port: int) -> socket.socket:
    """Like ``testing.server.bind_socket``, but created with ``proto=IPPROTO_TCP``.

    asyncio only sets TCP_NODELAY on accepted sockets whose ``proto`` is IPPROTO_TCP; with the
    ``proto=0`` socket of ``bind_socket`` Nagle's algorithm holds back the body of every answer
    (sent after its headers) until the client's delayed ACK, about 40 ms per request on loopback.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> int:
    """Like ``toloka-emulator``, with the counters."""
    from airflow_provider_toloka.testing.server import make_server

    args = build_parser().parse_args(argv)
    config = EmulatorConfig.from_namespace(args)
    server, _, _ = make_server(config)
    server.config.app = CountingMiddleware(server.config.app)
    sock = bind_tcp_socket(args.host, args.port)
    url = f"http://{args.host}:{sock.getsockname()[1]}"
    try:
        asyncio.run(_serve(server, sock, url, args.lifetime))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


class CountingEmulatorProcess(EmulatorProcess):
    """``EmulatorProcess`` running this module instead of the plain emulator CLI."""

    def command(self) -> list[str]:
        return [part if part != "airflow_provider_toloka.testing.emulator" else "benchmarks.emulator"
                for part in super().command()]


assert READY_PREFIX  # the child prints the same ready line as the package's CLI

if __name__ == "__main__":
    sys.exit(main())
