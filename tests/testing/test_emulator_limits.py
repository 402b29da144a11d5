"""Quotas (projects and tasks per window) and the requests-per-second limit."""

from __future__ import annotations

import time

from emulator_helpers import SHOES_PROJECT, TOKEN, Api, task

from airflow_provider_toloka.testing import TolokaEmulator


def test_project_quota() -> None:
    with TolokaEmulator(token=TOKEN, projects_per_minute=2, quota_window=1.0) as emulator:
        api = Api(emulator.api_url)
        started = time.monotonic()
        api.project()
        api.project()
        refused = api.post("/projects", json=SHOES_PROJECT)
        assert refused.status_code == 429
        error = refused.json()
        assert error["code"] == "TOO_MANY_REQUESTS"
        assert error["payload"]["interval"] == "MIN"
        assert refused.headers["Retry-After"] == "1"
        assert len(emulator.state.projects) == 2
        time.sleep(max(0.0, 1.05 - (time.monotonic() - started)))
        api.project()
        assert len(emulator.state.projects) == 3


def test_invalid_projects_do_not_count() -> None:
    with TolokaEmulator(token=TOKEN, projects_per_minute=1, quota_window=30.0) as emulator:
        api = Api(emulator.api_url)
        assert api.post("/projects", json={"public_name": "x"}).status_code == 400
        api.project()
        retry = api.post("/projects", json=SHOES_PROJECT)
        assert retry.status_code == 429
        assert 25 <= int(retry.headers["Retry-After"]) <= 30


def test_task_quota_counts_sync_and_async_and_refuses_whole_requests() -> None:
    with TolokaEmulator(token=TOKEN, tasks_per_minute=5, quota_window=30.0, operation_delay=0) as emulator:
        api = Api(emulator.api_url)
        pool_id = api.pool()
        assert api.post("/tasks", json=[task(pool_id)] * 3).status_code == 201
        too_many = api.post("/tasks", json=[task(pool_id)] * 3, params={"async_mode": "true"})
        assert too_many.status_code == 429
        assert too_many.json()["payload"]["interval"] == "MIN"
        assert int(too_many.headers["Retry-After"]) >= 1
        assert emulator.state.task_count(pool_id) == 3
        assert emulator.state.operations == {}
        assert api.post("/tasks", json=[task(pool_id)] * 2, params={"async_mode": "true"}).status_code == 201
        assert api.post("/tasks", json=task(pool_id)).status_code == 429
        assert emulator.state.task_count(pool_id) == 5


def test_requests_per_second_limit() -> None:
    with TolokaEmulator(token=TOKEN, rps=5) as emulator:
        api = Api(emulator.api_url)
        statuses = []
        refused = None
        for _ in range(12):
            response = api.get("/requester")
            statuses.append(response.status_code)
            if response.status_code == 429:
                refused = response
        assert statuses.count(200) >= 5
        assert 429 in statuses
        assert refused is not None
        assert refused.json()["code"] == "TOO_MANY_REQUESTS"
        assert refused.json()["payload"]["interval"] == "SECOND"
        assert refused.headers["Retry-After"] == "1"
