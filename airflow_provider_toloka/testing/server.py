"""Run the emulator in a background thread of the current process: ``TolokaEmulator``."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter
from dataclasses import replace
from types import TracebackType
from typing import Any

import uvicorn

from airflow_provider_toloka.testing.app import API_PREFIX, create_app
from airflow_provider_toloka.testing.config import DEFAULT_HOST, EmulatorConfig
from airflow_provider_toloka.testing.faults import FaultInjector, FaultMiddleware, install_log_filter
from airflow_provider_toloka.testing.state import EmulatorState

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.01


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free port chosen by the system).

    It is created with ``proto=IPPROTO_TCP`` because asyncio sets TCP_NODELAY only on accepted
    sockets whose protocol says TCP; without it Nagle's algorithm holds back each answer's body
    until the client's delayed ACK, about 40 ms per request on loopback.
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


def make_server(config: EmulatorConfig) -> tuple[uvicorn.Server, EmulatorState, FaultInjector]:
    """A uvicorn server for a new emulator state; logging is left to the caller (no dictConfig).

    :return: the server (not started), the state it serves and its fault injector.
    """
    state = EmulatorState(config)
    injector = FaultInjector(config.fail_rate, config.seed)
    app = FaultMiddleware(create_app(state), injector, config.rps)
    install_log_filter()
    uvicorn_config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        server_header=False,
    )
    return uvicorn.Server(uvicorn_config), state, injector


class TolokaEmulator:
    """A local Toloka API (``{url}/api/v1``) served from a background thread.

    Use it as a context manager::

        with TolokaEmulator(token="secret", operation_delay=0.1) as emulator:
            client = SomeClient(url=emulator.url, token=emulator.token)

    :param config: the emulator's behaviour (defaults: ``EmulatorConfig()``).
    :param host: interface to listen on (loopback by default).
    :param port: port to listen on (0: a free port).
    :param startup_timeout: seconds to wait for the server to start.
    :param options: ``EmulatorConfig`` fields (token, operation_delay, fail_rate, rps, seed, quotas),
        applied over ``config``.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        startup_timeout: float = 10.0,
        **options: Any,
    ) -> None:
        self.config = replace(config, **options) if config is not None else EmulatorConfig(**options)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._server, self.state, self._injector = make_server(self.config)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def api_url(self) -> str:
        """The API root, ``{url}/api/v1``."""
        return self.url + API_PREFIX

    @property
    def token(self) -> str | None:
        """The token requests must carry (None: any non-empty token)."""
        return self.config.token

    def outage(self, seconds: float) -> None:
        """Drop every API request, unprocessed, for the next ``seconds`` (state is kept)."""
        self._injector.start_outage(seconds)

    @property
    def fault_counts(self) -> Counter[str]:
        """How many faults of each kind were injected so far."""
        return self._injector.counts

    def start(self) -> TolokaEmulator:
        """Bind the socket and start serving; returns once the server accepts requests.

        :raises RuntimeError: when the server does not start within ``startup_timeout``.
        """
        if self._thread is not None:
            return self
        self._socket = bind_socket(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="toloka-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The Toloka emulator did not start on {self.url}")
            time.sleep(_POLL_SECONDS)
        log.debug("Toloka emulator listening on %s", self.url)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the server thread (bounded by ``timeout`` twice at most)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(timeout)
            if thread.is_alive():
                log.warning("The Toloka emulator thread on %s did not stop within %s s", self.url, 2 * timeout)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> TolokaEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"TolokaEmulator(url={self.url!r})"
