"""Run the emulator in a child process (``EmulatorProcess``), so its CPU is not the caller's."""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from airflow_provider_toloka.testing.config import DEFAULT_HOST, EmulatorConfig
from airflow_provider_toloka.testing.emulator import READY_PREFIX

log = logging.getLogger(__name__)

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


class EmulatorProcess:
    """The emulator CLI in a subprocess: ``python -m airflow_provider_toloka.testing.emulator``.

    Takes the options of ``TolokaEmulator``; exposes ``url`` and ``pid``; on exit, terminates the
    process, then kills it after ``stop_timeout`` seconds.

    :param host: interface to listen on.
    :param port: port (0: a free one, read back from the child's ready line).
    :param startup_timeout: seconds to wait for the ready line.
    :param stop_timeout: seconds to wait after SIGTERM (and after SIGKILL).
    :param lifetime: the child stops by itself after this many seconds (None: never).
    :param python: interpreter to run.
    :param options: ``EmulatorConfig`` options (token, operation_delay, fail_rate, ...).
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        startup_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        lifetime: float | None = None,
        python: str = sys.executable,
        **options: Any,
    ) -> None:
        self.config = EmulatorConfig(**options)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.lifetime = lifetime
        self.python = python
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id (None before ``start``)."""
        return self._process.pid if self._process else None

    @property
    def api_url(self) -> str:
        """The API root, ``{url}/api/v1``."""
        return self.url + "/api/v1"

    def command(self) -> list[str]:
        """The command line of the child."""
        command = [
            self.python,
            "-m",
            "airflow_provider_toloka.testing.emulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.config.cli_args(),
        ]
        if self.lifetime is not None:
            command += ["--lifetime", str(self.lifetime)]
        return command

    def start(self) -> EmulatorProcess:
        """Start the child and wait (bounded) for its ready line.

        :raises RuntimeError: when it exits or stays silent for ``startup_timeout`` seconds.
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, text=True, env=env)
        assert self._process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(self._process.stdout, lines), daemon=True)
        reader.start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = None
        if not line or not line.startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"The Toloka emulator process did not start (first line: {line!r})")
        self.url = line[len(READY_PREFIX) :].strip()
        log.debug("Toloka emulator process %s listening on %s", self.pid, self.url)
        return self

    def stop(self) -> int | None:
        """Terminate the child (SIGTERM, then SIGKILL after ``stop_timeout``); returns its exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(self.stop_timeout)
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
