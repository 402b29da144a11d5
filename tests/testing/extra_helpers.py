"""Helpers of the tests of the emulator's extra endpoints (lifecycle, analytics, skills, ...)."""

from __future__ import annotations

from typing import Any

import requests
from emulator_helpers import Api, task
from test_emulator_pool_actions import finish

__all__ = ["DEFAULTS", "filled_pool", "finish", "send"]

#: Pool defaults that let tasks be posted without an overlap.
DEFAULTS = {"default_overlap_for_new_task_suites": 2, "default_overlap_for_new_tasks": 2}


def send(api: Api, method: str, path: str, body: Any = None) -> requests.Response:
    """Any method against the emulator, authenticated."""
    return api.session.request(method, api.base + path, json=body, timeout=30)


def filled_pool(api: Api, count: int = 2, **extra: Any) -> tuple[str, list[dict[str, Any]]]:
    """A new pool (overlap 2 by default) with ``count`` tasks; its id and the tasks."""
    pool_id = api.pool(defaults=DEFAULTS, **extra)
    for number in range(count):
        api.create("/tasks", task(pool_id, f"https://example.com/{number}.jpg"))
    return pool_id, api.get("/tasks", params={"pool_id": pool_id}).json()["items"]
