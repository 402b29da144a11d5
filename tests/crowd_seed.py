"""Seeding a pool with answers: tasks created for real over HTTP, assignments put in the emulator's state."""

from __future__ import annotations

from typing import Any

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.testing import TolokaEmulator

LABELS = ("boots", "sneakers", "other")


def make_tasks(client: TolokaClient, pool_id: str, count: int, control: dict[int, str] | None = None) -> list[dict]:
    """``count`` tasks in the pool (sync POST /tasks); ``control`` maps an index to its known answer."""
    tasks = []
    for index in range(count):
        task: dict[str, Any] = {"input_values": {"image": f"https://example.com/{index}.jpg"}, "overlap": 3}
        if control and index in control:
            task["known_solutions"] = [{"output_values": {"result": control[index]}, "correctness_weight": 1}]
        tasks.append(task)
    client.create_tasks(tasks, pool_id, async_mode=False)
    return sorted(client.iter_tasks(pool_id), key=lambda task: int(task["input_values"]["image"].split("/")[-1][:-4]))


def add_answers(
    emulator: TolokaEmulator,
    pool_id: str,
    user_id: str,
    tasks: list[dict],
    labels: list[str],
    status: str = "SUBMITTED",
) -> dict[str, Any]:
    """One assignment of ``user_id`` answering ``tasks`` with ``labels`` (same order)."""
    solutions = [{"output_values": {"result": label}} for label in labels]
    return emulator.state.add_assignment(pool_id, tasks, solutions, status=status, user_id=user_id)


def set_close_reason(emulator: TolokaEmulator, pool_id: str, status: str, reason: str | None) -> None:
    """Put the pool in a state the API reaches by itself (used where the crowd cannot provoke it)."""
    with emulator.state.lock:
        pool = emulator.state.pools[pool_id]
        pool["status"] = status
        if reason is None:
            pool.pop("last_close_reason", None)
        else:
            pool["last_close_reason"] = reason


def open_with_a_task(client: TolokaClient, pool_id: str) -> None:
    """Upload one task and open the pool (waiting for both)."""
    client.create_tasks(
        [{"image": "https://example.com/open.jpg"}], pool_id, default_overlap=3, open_pool=True, wait=True
    )
