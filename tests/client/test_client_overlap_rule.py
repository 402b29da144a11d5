"""The API's overlap rule checked locally, and failure messages that name the caller's task index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.errors import TolokaOperationFailedError, TolokaValidationError
from airflow_provider_toloka.testing import TolokaEmulator


@pytest.fixture
def suites_default_pool(
    client: TolokaClient, shoes_project: dict[str, Any], shoes_pool: Callable[[str], dict[str, Any]]
) -> str:
    """A pool with only ``default_overlap_for_new_task_suites`` (as Toloka's own quickstart sets it)."""
    pool = shoes_pool(client.create_project(shoes_project).id or "")
    pool["defaults"] = {"default_overlap_for_new_task_suites": 3}
    return client.create_pool(pool).id or ""


def _writes(emulator: TolokaEmulator) -> int:
    return len(emulator.state.operations) + emulator.state.task_count()


@pytest.mark.parametrize("async_mode", [True, False])
def test_a_task_without_overlap_is_refused_before_any_request(
    client: TolokaClient, emulator: TolokaEmulator, suites_default_pool: str, async_mode: bool
) -> None:
    tasks = [{"input_values": {"image": "https://e/0.jpg"}, "overlap": 2}, {"image": "https://e/1.jpg"}]
    before = _writes(emulator)
    with pytest.raises(TolokaValidationError, match=r"tasks\[1\] has no overlap.*default_overlap_for_new_tasks") as e:
        client.create_tasks(tasks, suites_default_pool, async_mode=async_mode)
    assert e.value.errors == {"1": {"overlap": {"code": "VALUE_REQUIRED", "message": "overlap is required"}}}
    with pytest.raises(TolokaValidationError, match=r"tasks\[1\] has no overlap"):
        client.create_tasks(iter(tasks), suites_default_pool, async_mode=async_mode)  # a one-pass stream too
    assert _writes(emulator) == before


def test_the_ways_to_give_an_overlap(client: TolokaClient, suites_default_pool: str) -> None:
    bare = [{"image": "https://e/0.jpg"}]
    client.create_tasks(bare, suites_default_pool, default_overlap=2, wait=True)
    client.create_tasks(bare, suites_default_pool, allow_defaults=True, wait=True)  # the task-suite default
    client.create_tasks([{"input_values": bare[0], "overlap": 4}], suites_default_pool, wait=True)
    overlaps = [task["overlap"] for task in client.iter_tasks(suites_default_pool)]
    assert overlaps == [2, 3, 4]


def test_failure_message_names_the_callers_index_from_the_log_tag(client: TolokaClient, pool_id: str) -> None:
    tasks = [{"image": f"https://e/{i}.jpg"} for i in range(6)]
    tasks[4] = {"image": None}
    with pytest.raises(TolokaOperationFailedError) as caught:
        client.create_tasks(tasks, pool_id, batch_size=3, validate=False, wait=True)
    assert "item 4: input_values.image: VALUE_REQUIRED" in str(caught.value)
