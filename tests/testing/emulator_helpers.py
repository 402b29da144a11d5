"""Helpers of the emulator tests: bodies of valid objects and a small HTTP helper around requests."""

from __future__ import annotations

from typing import Any

import requests
from quickstart import SHOES_PROJECT, TOKEN

__all__ = ["SHOES_PROJECT", "TOKEN", "Api", "pool_body", "task"]


def pool_body(project_id: str, **extra: Any) -> dict[str, Any]:
    """A valid pool body for ``project_id``; its tasks get overlap 1 unless they set one."""
    return {
        "project_id": project_id,
        "private_name": "Shoes pool",
        "may_contain_adult_content": False,
        "will_expire": "2030-01-01T00:00:00",
        "reward_per_assignment": 0.02,
        "assignment_max_duration_seconds": 60,
        "defaults": {"default_overlap_for_new_task_suites": 1, "default_overlap_for_new_tasks": 1},
        **extra,
    }


def task(pool_id: str, image: Any = "https://example.com/1.jpg", **extra: Any) -> dict[str, Any]:
    """A task body (valid unless ``image`` is)."""
    return {"pool_id": pool_id, "input_values": {"image": image}, **extra}


class Api:
    """requests against one emulator, authenticated by default.

    :param base: the API root, ``{url}/api/v1``.
    :param token: sent as ``Authorization: OAuth <token>``.
    """

    def __init__(self, base: str, token: str = TOKEN) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"OAuth {token}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, timeout=30, **kwargs)

    def create(self, path: str, body: Any, **kwargs: Any) -> dict[str, Any]:
        """POST and expect 201; the created object."""
        response = self.post(path, json=body, **kwargs)
        assert response.status_code == 201, response.text
        return response.json()

    def project(self, **extra: Any) -> str:
        """Create the shoes project; its id."""
        return self.create("/projects", {**SHOES_PROJECT, **extra})["id"]

    def pool(self, project_id: str | None = None, **extra: Any) -> str:
        """Create a pool (in a new project unless given); its id."""
        return self.create("/pools", pool_body(project_id or self.project(), **extra))["id"]
