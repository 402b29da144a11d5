"""Shared by the benchmarks: emulators, the benchmark project and pool, worker subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from benchmarks.emulator import CountingEmulatorProcess
from benchmarks.measure import parse_result
from benchmarks.tasks import PROJECT, TOKEN, pool_body

ROOT = Path(__file__).resolve().parents[1]
#: Quota big enough never to throttle the upload benchmarks.
HUGE_QUOTA = 10**12


def emulator(**options: Any) -> CountingEmulatorProcess:
    """An emulator subprocess with counters (not started); its own CPU is not the client's."""
    options.setdefault("token", TOKEN)
    options.setdefault("lifetime", 3600)
    options.setdefault("startup_timeout", 60)
    return CountingEmulatorProcess(**options)


class Api:
    """A small authenticated requests helper bound to one emulator."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api = url + "/api/v1"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"OAuth {TOKEN}", "Content-Type": "application/json"})

    def post(self, path: str, body: Any) -> dict[str, Any]:
        response = self.session.post(self.api + path, data=json.dumps(body), timeout=30)
        response.raise_for_status()
        return response.json()

    def new_pool(self) -> str:
        """A new project with the benchmark's input_spec and a pool in it; the pool id."""
        project_id = self.post("/projects", PROJECT)["id"]
        return str(self.post("/pools", pool_body(project_id))["id"])

    def stats(self, reset: bool = False) -> dict[str, Any]:
        """The emulator's request counts, CPU seconds and RSS (optionally resetting the counts)."""
        if reset:
            response = self.session.post(self.url + "/_bench/reset", timeout=30)
        else:
            response = self.session.get(self.url + "/_bench/stats", timeout=30)
        response.raise_for_status()
        return response.json()

    def count_tasks(self, pool_id: str, page: int = 100_000) -> tuple[int, int, set[int]]:
        """Page through ``GET /tasks`` of the pool: (tasks, distinct task ids, the distinct ``n`` inputs)."""
        total, ids, numbers, last = 0, set(), set(), None
        for _ in range(10_000):
            params: dict[str, Any] = {"pool_id": pool_id, "sort": "id", "limit": page}
            if last is not None:
                params["id_gt"] = last
            response = self.session.get(self.api + "/tasks", params=params, timeout=120)
            for _ in range(60):  # the emulator's rps limit applies to the read-back too
                if response.status_code != 429:
                    break
                time.sleep(float(response.headers.get("Retry-After", "1")))
                response = self.session.get(self.api + "/tasks", params=params, timeout=120)
            response.raise_for_status()
            body = response.json()
            items = body["items"]
            total += len(items)
            ids.update(item["id"] for item in items)
            numbers.update(item["input_values"]["n"] for item in items)
            if not body["has_more"] or not items:
                break
            last = items[-1]["id"]
        return total, len(ids), numbers


def worker_env(python_path_first: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("AIRFLOW_HOME", str(ROOT / "benchmarks" / ".data" / "airflow-home"))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run_worker(
    module: str, options: dict[str, Any], python: str = sys.executable, timeout: float = 1800
) -> dict[str, Any]:
    """Run ``python -m module '<options>'`` in a fresh process and return its RESULT."""
    completed = subprocess.run(
        [python, "-m", module, json.dumps(options)],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module} failed ({completed.returncode}): {completed.stderr[-3000:]}")
    return parse_result(completed.stdout)
