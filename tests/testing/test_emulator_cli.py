"""The command line (``python -m airflow_provider_toloka.testing.emulator``) and ``EmulatorProcess``."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from emulator_helpers import Api, task

from airflow_provider_toloka.testing import EmulatorProcess

REPO = Path(__file__).resolve().parents[2]
READY = re.compile(r"^Toloka emulator listening on (http://127\.0\.0\.1:(\d+))$")


def first_line(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


def test_cli_prints_url_serves_and_stops_on_sigterm() -> None:
    command = [
        sys.executable,
        "-m",
        "airflow_provider_toloka.testing.emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--token",
        "cli-token",
        "--operation-delay",
        "0",
        "--lifetime",
        "60",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = first_line(process)
        match = READY.match(line.rstrip("\n"))
        assert match, line
        url, port = match.groups()
        assert int(port) > 0
        headers = {"Authorization": "ApiKey cli-token"}
        assert requests.get(f"{url}/api/v1/requester", headers=headers, timeout=10).status_code == 200
        wrong = requests.get(f"{url}/api/v1/requester", headers={"Authorization": "ApiKey x"}, timeout=10)
        assert wrong.status_code == 401
        os.kill(process.pid, 15)
        process.wait(timeout=10)
        assert process.stdout.read() == ""  # exactly one line
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/v1/requester", headers=headers, timeout=2)


def test_cli_lifetime_stops_by_itself() -> None:
    command = [sys.executable, "-m", "airflow_provider_toloka.testing.emulator", "--port", "0", "--lifetime", "0.5"]
    process = subprocess.run(
        command, capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert process.returncode == 0
    assert READY.match(process.stdout.strip())


def test_cli_rejects_bad_options() -> None:
    command = [sys.executable, "-m", "airflow_provider_toloka.testing.emulator", "--fail-rate", "2"]
    process = subprocess.run(
        command, capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert process.returncode == 2
    assert "fail_rate" in process.stderr


def test_cli_help_lists_every_option() -> None:
    from airflow_provider_toloka.testing.config import OPTION_HELP

    command = [sys.executable, "-m", "airflow_provider_toloka.testing.emulator", "--help"]
    process = subprocess.run(
        command, capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert process.returncode == 0, process.stderr[-2000:]
    for name in OPTION_HELP:
        assert f"--{name.replace('_', '-')}" in process.stdout, name


def test_emulator_process_options_and_termination() -> None:
    with EmulatorProcess(token="p", tasks_per_minute=3, quota_window=30, operation_delay=0, lifetime=60) as emulator:
        assert emulator.pid and emulator.pid != os.getpid()
        api = Api(emulator.api_url, token="p")
        pool_id = api.pool()
        refused = api.post("/tasks", json=[task(pool_id)] * 4)
        assert refused.status_code == 429  # the quota option reached the child
        assert len(api.create("/tasks", [task(pool_id)] * 3)["items"]) == 3
        pid = emulator.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
