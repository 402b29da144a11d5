"""Command line: ``python -m airflow_provider_toloka.testing.emulator`` (or ``toloka-emulator``).

Serves the emulated Toloka API until SIGINT/SIGTERM (or ``--lifetime`` seconds) and, once it
accepts requests, prints exactly one line ``Toloka emulator listening on http://HOST:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

from airflow_provider_toloka.testing.config import DEFAULT_HOST, EmulatorConfig

#: The line printed when the emulator is ready; the URL follows it.
READY_PREFIX = "Toloka emulator listening on "
_STARTUP_TIMEOUT = 30.0
_POLL_SECONDS = 0.01


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the CLI."""
    parser = argparse.ArgumentParser(prog="toloka-emulator", description="Local emulator of the Toloka API.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on, 0 for a free one (default: 8765)")
    parser.add_argument("--lifetime", type=float, default=None, help="stop by itself after this many seconds")
    EmulatorConfig.add_arguments(parser)
    return parser


async def _serve(server, sock, url: str, lifetime: float | None) -> None:
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _STARTUP_TIMEOUT
    while not server.started and not serving.done() and loop.time() < deadline:  # noqa: ASYNC110 (a plain flag)
        await asyncio.sleep(_POLL_SECONDS)
    if not server.started:
        server.should_exit = True
        await asyncio.wait([serving], timeout=5)
        raise RuntimeError(f"The Toloka emulator did not start on {url}")
    print(f"{READY_PREFIX}{url}", flush=True)
    if lifetime is not None:
        await asyncio.wait([serving], timeout=lifetime)
        server.should_exit = True
    await serving


def main(argv: list[str] | None = None, wrap_app: Callable[[Any], Any] | None = None) -> int:
    """Run the emulator until stopped; returns the exit code.

    :param wrap_app: wraps the ASGI app, e.g. in a middleware that counts requests.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = EmulatorConfig.from_namespace(args)
    except ValueError as exc:
        print(f"toloka-emulator: {exc}", file=sys.stderr)
        return 2
    from airflow_provider_toloka.testing.server import bind_socket, make_server

    server, _, _ = make_server(config)
    if wrap_app is not None:
        server.config.app = wrap_app(server.config.app)
    sock = bind_socket(args.host, args.port)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{sock.getsockname()[1]}"
    try:
        asyncio.run(_serve(server, sock, url, args.lifetime))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
