"""Helpers of the simulated-crowd tests: a labeled pool over HTTP, waiting for it to close, paging assignments."""

from __future__ import annotations

import time
from typing import Any

from emulator_helpers import SHOES_PROJECT, Api

LABELS = SHOES_PROJECT["task_spec"]["output_spec"]["result"]["allowed_values"]


def open_pool(
    api: Api,
    count: int,
    overlap: int = 3,
    *,
    project: dict[str, Any] | None = None,
    controls: dict[int, str] | None = None,
    **pool_extra: Any,
) -> str:
    """A pool of ``count`` tasks (``controls``: index -> known answer), opened; its id."""
    project_id = api.create("/projects", project or SHOES_PROJECT)["id"]
    body = {
        "project_id": project_id,
        "private_name": "Crowd pool",
        "may_contain_adult_content": False,
        "will_expire": "2030-01-01T00:00:00",
        "reward_per_assignment": 0.02,
        "assignment_max_duration_seconds": 60,
        "defaults": {"default_overlap_for_new_task_suites": overlap, "default_overlap_for_new_tasks": overlap},
        "mixer_config": {"real_tasks_count": 3, "golden_tasks_count": 0, "training_tasks_count": 0},
        **pool_extra,
    }
    pool_id = api.create("/pools", {name: value for name, value in body.items() if value is not None})["id"]
    tasks = []
    for index in range(count):
        task: dict[str, Any] = {
            "pool_id": pool_id,
            "input_values": {"image": f"https://example.com/{index}.jpg"},
            "overlap": overlap,
        }
        if controls and index in controls:
            task["known_solutions"] = [{"output_values": {"result": controls[index]}, "correctness_weight": 1}]
            task["infinite_overlap"] = True
            del task["overlap"]
        tasks.append(task)
    for start in range(0, count, 5000):
        api.create("/tasks", tasks[start : start + 5000])
    assert api.post(f"/pools/{pool_id}/open").status_code == 202
    wait_for(lambda: "last_started" in api.get(f"/pools/{pool_id}").json(), 10)  # opened (it may close at once)
    return pool_id


def wait_for(condition: Any, timeout: float, interval: float = 0.1) -> None:
    """Poll ``condition()`` until true (AssertionError after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true within {timeout} s"
        time.sleep(interval)


def wait_closed(api: Api, pool_id: str, timeout: float) -> dict[str, Any]:
    """The pool once it has closed by itself (AssertionError after ``timeout`` seconds)."""
    pool: dict[str, Any] = {}

    def closed() -> bool:
        pool.update(api.get(f"/pools/{pool_id}").json())
        return pool["status"] == "CLOSED"

    wait_for(closed, timeout, 0.2)
    return pool


def all_assignments(api: Api, pool_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every assignment of the pool, paged by id (1,000 a page)."""
    found: list[dict[str, Any]] = []
    last = None
    while True:
        query = {"pool_id": pool_id, "limit": 1000, **params, **({"id_gt": last} if last else {})}
        page = api.get("/assignments", params=query).json()
        found += page["items"]
        if not page["has_more"]:
            return found
        last = page["items"][-1]["id"]


def ground_truth(url: str, pool_id: str) -> dict[str, dict[str, Any]]:
    """The emulator's hidden answers of the pool (no token needed)."""
    import requests

    response = requests.get(f"{url}/_emulator/ground-truth", params={"pool_id": pool_id}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()
