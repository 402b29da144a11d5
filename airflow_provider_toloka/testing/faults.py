"""Fault injection, outages and the requests-per-second limit, as a raw ASGI middleware.

Per request, one draw of a seeded ``random.Random`` decides whether it fails, and how, in
three equally likely ways: 500 INTERNAL_ERROR or 503 REMOTE_SERVICE_UNAVAILABLE without
processing it, or processing it and then dropping the connection before any byte of the
answer is sent (the client cannot tell whether it took effect). Requests refused by the
``rps`` limit (429) are never turned into faults.

An outage (:meth:`FaultInjector.start_outage`, or ``POST /_emulator/outage?seconds=N`` outside the
API) drops every API request unanswered and unprocessed for that long, as a network outage
would; the state is kept, so what was running goes on when the API comes back.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import Counter
from typing import Any

from airflow_provider_toloka.testing.errors import error_body
from airflow_provider_toloka.testing.limits import FixedWindow, retry_after_header

INTERNAL_ERROR = "INTERNAL_ERROR"
UNAVAILABLE = "REMOTE_SERVICE_UNAVAILABLE"
DROPPED = "CONNECTION_DROPPED"
OUTAGE = "OUTAGE"
#: The emulator-only control that starts an outage (outside the API, never itself dropped).
OUTAGE_PATH = "/_emulator/outage"
#: The fault kinds, equally likely.
FAULT_KINDS = (INTERNAL_ERROR, UNAVAILABLE, DROPPED)
_ERROR_STATUS = {INTERNAL_ERROR: 500, UNAVAILABLE: 503}

Scope = dict[str, Any]


class ConnectionDropped(Exception):
    """Raised to the ASGI server to make it close the connection without an answer."""


class _HideDroppedConnections(logging.Filter):
    """Keep uvicorn from logging a traceback for each injected dropped connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_info = record.exc_info
        return not (exc_info and isinstance(exc_info[1], ConnectionDropped))


_FILTER = _HideDroppedConnections()


def install_log_filter() -> None:
    """Silence the tracebacks of injected dropped connections in uvicorn's error log (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


class FaultInjector:
    """Decides, reproducibly from ``seed``, which requests fail and how.

    :param fail_rate: probability that a request fails.
    :param seed: seed of the random generator.
    """

    def __init__(self, fail_rate: float, seed: int | None = None) -> None:
        self.fail_rate = fail_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        #: How many faults of each kind were injected.
        self.counts: Counter[str] = Counter()
        self._outage_until = 0.0

    def start_outage(self, seconds: float) -> None:
        """Drop every API request, unprocessed, for the next ``seconds``."""
        self._outage_until = time.monotonic() + max(0.0, float(seconds))

    @property
    def in_outage(self) -> bool:
        """Whether an outage is under way."""
        return time.monotonic() < self._outage_until

    def draw(self) -> str | None:
        """The fault for the next request, or None (one random draw per request)."""
        if self.fail_rate <= 0:
            return None
        with self._lock:
            value = self._random.random()
            if value >= self.fail_rate:
                return None
            kind = FAULT_KINDS[min(int(value / self.fail_rate * len(FAULT_KINDS)), len(FAULT_KINDS) - 1)]
            self.counts[kind] += 1
            return kind


class FaultMiddleware:
    """ASGI middleware applying the ``rps`` limit, then the injected faults.

    :param app: the wrapped ASGI application.
    :param injector: decides the faults.
    :param rps: requests allowed per second (None: unlimited).
    """

    def __init__(self, app: Any, injector: FaultInjector, rps: float | None = None) -> None:
        self.app = app
        self.injector = injector
        self._rps = FixedWindow(rps, 1.0) if rps else None
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path") == OUTAGE_PATH and scope.get("method") == "POST":
            await self._start_outage(scope, send)
            return
        if self.injector.in_outage and str(scope.get("path", "")).startswith("/api/"):
            self.injector.counts[OUTAGE] += 1
            await drop_connection(send)
            return
        if self._rps is not None:
            with self._lock:
                wait = self._rps.acquire(1, time.monotonic())
            if wait is not None:
                message = f"Too many requests: more than {self._rps.limit:g} requests per second"
                await send_error(
                    send,
                    429,
                    "TOO_MANY_REQUESTS",
                    message,
                    {"interval": "SECOND", "rps": self._rps.limit},
                    retry_after_header(wait),
                )
                return
        kind = self.injector.draw()
        if kind is None:
            await self.app(scope, receive, send)
        elif kind in _ERROR_STATUS:
            await send_error(send, _ERROR_STATUS[kind], kind, f"Injected fault: {kind}", None)
        else:
            await self._process_then_drop(scope, receive, send)

    async def _start_outage(self, scope: Scope, send: Any) -> None:
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode())
        try:
            seconds = float(query.get("seconds", ["60"])[0])
        except ValueError:
            await send_error(send, 400, "VALIDATION_ERROR", "seconds must be a number", None)
            return
        self.injector.start_outage(seconds)
        body = b'{"outage_seconds": %s}' % str(seconds).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _process_then_drop(self, scope: Scope, receive: Any, send: Any) -> None:
        answer: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)
        if answer and answer[0].get("status") == 429:
            for message in answer:
                await send(message)
            return
        await drop_connection(send)


async def send_error(
    send: Any, status: int, code: str, message: str, payload: Any, headers: dict[str, str] | None = None
) -> None:
    """Send a complete JSON error answer through a raw ASGI ``send``."""
    body = error_body(code, message, payload)
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def drop_connection(send: Any) -> None:
    """Make the ASGI server close the connection without writing an answer.

    The response start carries a header value the server refuses (a line break), so uvicorn
    marks the response as started but writes nothing; the exception raised next makes it close
    the transport. The client sees the connection closed without a status line.
    """
    with contextlib.suppress(Exception):
        await send({"type": "http.response.start", "status": 500, "headers": [(b"x-fault", b"dropped\r\n")]})
    raise ConnectionDropped("injected dropped connection")
