"""``kill -9`` at random moments: a worker uploading with a fixed key is SIGKILLed several times,
each try with another batch size and order, then run to completion; the pool then holds exactly
the input's multiset of tasks."""

from __future__ import annotations

import json
import queue
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from quickstart import TOKEN, UNLIMITED_QUOTAS

from airflow_provider_toloka.client.batching import scoped_upload_key
from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.resume import UploadReader
from airflow_provider_toloka.testing import EmulatorProcess

WORKER = str(Path(__file__).with_name("upload_worker.py"))
DISTINCT = 3_000
REPEATED = 60  # rows that are legitimately in the input twice
KEY = "kill9-upload"
TIMEOUT = 60.0


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.strip())
    lines.put(None)


class Worker:
    """One try of the upload in a child process, whose stdout lines are read with timeouts."""

    def __init__(self, url: str, pool_id: str, path: Path, batch_size: int, seed: int) -> None:
        args = [sys.executable, "-u", WORKER, url, TOKEN, pool_id, KEY, str(path), str(batch_size), str(seed)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(self.process.stdout, self.lines), daemon=True).start()

    def wait_for(self, prefix: str, deadline: float) -> str | None:
        """The first line starting with ``prefix``, or None if the worker ended first."""
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line is None or line.startswith(prefix):
                return line

    def kill(self) -> None:
        self.process.kill()  # SIGKILL
        self.process.wait(timeout=10)

    def finish(self) -> int:
        return self.process.wait(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def api() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(token=TOKEN, operation_delay=0.2, **UNLIMITED_QUOTAS, lifetime=300) as process:
        yield process


def read_pool(client: TolokaClient, pool_id: str) -> Counter[str]:
    return Counter(task["input_values"]["image"] for task in client.iter_tasks(pool_id, page_size=1000))


@pytest.mark.parametrize("seed", [11, 29])
def test_kill_9_at_random_moments_then_a_rerun_otherwise_batched_and_ordered(
    api: EmulatorProcess, make_client, shoes_project: dict[str, Any], shoes_pool, tmp_path: Path, seed: int
) -> None:
    client = make_client(api.url)
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    images = [f"https://example.com/k9/{n}.jpg" for n in range(DISTINCT)]
    images += images[:: DISTINCT // REPEATED]
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps({"image": name}) + "\n" for name in images), encoding="utf-8")

    rng = random.Random(seed)
    reader = UploadReader(client, scoped_upload_key(KEY, pool_id) or "", pool_id, TIMEOUT)
    kills = []
    for _ in range(4):
        began = time.monotonic()
        worker = Worker(api.url, pool_id, path, rng.choice([50, 97, 200, 333]), rng.randrange(1000))
        deadline = time.monotonic() + TIMEOUT
        row = rng.randrange(0, len(images), 50)
        line = worker.wait_for(f"row {row}", deadline)
        time.sleep(rng.uniform(0, 0.05))  # land anywhere: mid-batch, mid-POST, in a wait
        if line is None or worker.process.poll() is not None:
            worker.finish()
            kills.append((row, "finished first"))
            continue
        worker.kill()
        print(f"killed after {time.monotonic() - began:.2f}s")
        kills.append((row, len(reader.existing_operations())))
    assert sum(isinstance(ops, int) for _, ops in kills) >= 3, kills

    started = time.monotonic()
    final = Worker(api.url, pool_id, path, 77, rng.randrange(1000))
    assert final.wait_for("done", time.monotonic() + TIMEOUT), kills
    assert final.finish() == 0
    created = read_pool(client, pool_id)
    assert created == Counter(images), (kills, sum(created.values()))
    print(f"kills (row reached, operations then): {kills}; final run {time.monotonic() - started:.1f}s")
