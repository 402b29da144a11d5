"""Uploading tasks: async batches with deterministic operation ids, sync mode, waiting, failed operations."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.errors import (
    TolokaApiValidationError,
    TolokaOperationFailedError,
    TolokaOperationTimeoutError,
    TolokaValidationError,
)
from airflow_provider_toloka.client.files import iter_task_file
from airflow_provider_toloka.client.operations import totals
from airflow_provider_toloka.client.progress import UploadProgress
from airflow_provider_toloka.testing import TolokaEmulator


def image(number: int) -> str:
    return f"https://example.com/shoes/{number}.jpg"


def read_back(client: TolokaClient, pool_id: str, page_size: int = 10_000) -> list[dict[str, Any]]:
    return list(client.iter_tasks(pool_id, page_size=page_size))


def assert_created_once(client: TolokaClient, pool_id: str, expected: list[str]) -> list[dict[str, Any]]:
    """Every expected image is a task of the pool exactly once, in upload order, and nothing else is."""
    tasks = read_back(client, pool_id, page_size=7)
    images = [task["input_values"]["image"] for task in tasks]
    duplicates = [name for name, count in Counter(images).items() if count > 1]
    assert not duplicates
    assert images == expected
    assert all(task["pool_id"] == pool_id for task in tasks)
    return tasks


def test_async_upload_from_a_list(client: TolokaClient, pool_id: str, caplog: pytest.LogCaptureFixture) -> None:
    tasks = [{"input_values": {"image": image(i)}, "overlap": 2} for i in range(10)]
    with caplog.at_level(logging.INFO, logger="airflow_provider_toloka.client.client"):
        result = client.create_tasks(tasks, pool_id, batch_size=3, wait=True, idempotency_key="list-upload")

    assert len(result.operation_ids) == 4
    assert len(set(result.operation_ids)) == 4
    assert result.tasks_sent == 10
    assert result.task_ids == []
    assert result.invalid_count == 0 and result.validation_errors == {}
    assert [operation.id for operation in result.operations] == result.operation_ids
    assert all(operation.status == "SUCCESS" for operation in result.operations)
    assert totals(result.operations) == {
        "total_count": 10,
        "valid_count": 10,
        "not_valid_count": 0,
        "success_count": 10,
        "failed_count": 0,
        "operations": 4,
    }
    created = assert_created_once(client, pool_id, [image(i) for i in range(10)])
    assert {task["overlap"] for task in created} == {2}
    assert "Uploaded 10 tasks in 4 batches" in caplog.text


def test_async_upload_from_a_generator(client: TolokaClient, pool_id: str) -> None:
    pulled: list[int] = []

    def generate():
        for i in range(7):
            pulled.append(i)
            yield {"image": image(i)}  # bare input values

    result = client.create_tasks(generate(), pool_id, batch_size=2, default_overlap=3)
    assert pulled == list(range(7))
    assert len(result.operation_ids) == 4
    assert result.tasks_sent == 7
    for operation_id in result.operation_ids:
        assert client.wait_operation(operation_id, timeout=10, poll_interval=0.05).status == "SUCCESS"
    created = assert_created_once(client, pool_id, [image(i) for i in range(7)])
    assert {task["overlap"] for task in created} == {3}


def test_async_upload_from_jsonl_and_json_files(client: TolokaClient, pool_id: str, tmp_path: Path) -> None:
    jsonl = tmp_path / "tasks.jsonl"
    lines = [json.dumps({"input_values": {"image": image(i)}}) for i in range(5)]
    jsonl.write_text("\n".join(lines[:3]) + "\n\n   \n" + "\n".join(lines[3:]) + "\n", encoding="utf-8")
    array = tmp_path / "tasks.json"
    array.write_text(json.dumps([{"image": image(i)} for i in range(5, 9)], indent=2), encoding="utf-8")

    first = client.create_tasks(iter_task_file(jsonl), pool_id, batch_size=2, wait=True, source=str(jsonl))
    second = client.create_tasks(iter_task_file(array), pool_id, batch_size=2, wait=True, source=str(array))

    assert len(first.operation_ids) == 3 and first.tasks_sent == 5
    assert len(second.operation_ids) == 2 and second.tasks_sent == 4
    assert_created_once(client, pool_id, [image(i) for i in range(9)])


def test_same_idempotency_key_creates_nothing_new(client: TolokaClient, pool_id: str) -> None:
    tasks = [{"image": image(i)} for i in range(8)]
    first = client.create_tasks(tasks, pool_id, batch_size=3, idempotency_key="run-42", wait=True)
    again = client.create_tasks(tasks, pool_id, batch_size=3, idempotency_key="run-42", wait=True)

    assert again.operation_ids == first.operation_ids
    assert [op.status for op in again.operations] == ["SUCCESS"] * 3
    assert_created_once(client, pool_id, [image(i) for i in range(8)])
    # another key is another upload
    other = client.create_tasks(tasks[:2], pool_id, batch_size=3, idempotency_key="run-43", wait=True)
    assert not set(other.operation_ids) & set(first.operation_ids)
    assert len(read_back(client, pool_id)) == 10


def test_rerun_after_a_crash_midway_creates_each_task_once(client: TolokaClient, pool_id: str) -> None:
    tasks = [{"image": image(i)} for i in range(10)]

    def crashing():
        for i, task in enumerate(tasks):
            if i == 7:
                raise RuntimeError("worker killed")
            yield task

    with pytest.raises(RuntimeError, match="worker killed"):
        client.create_tasks(crashing(), pool_id, batch_size=3, idempotency_key="crash-run")
    result = client.create_tasks(tasks, pool_id, batch_size=3, idempotency_key="crash-run", wait=True)
    assert len(result.operation_ids) == 4
    assert_created_once(client, pool_id, [image(i) for i in range(10)])


@pytest.mark.parametrize("validate", [True, False], ids=["local-validation", "api-validation"])
def test_sync_mode_skips_invalid_items_with_global_indexes(client: TolokaClient, pool_id: str, validate: bool) -> None:
    tasks: list[dict[str, Any]] = [{"image": image(i)} for i in range(10)]
    tasks[1] = {"image": image(1), "colour": "red"}  # not in input_spec
    tasks[7] = {"picture": image(7)}  # the required image is missing
    result = client.create_tasks(
        tasks, pool_id, async_mode=False, batch_size=3, skip_invalid_items=True, validate=validate
    )

    assert result.operation_ids == []
    assert sorted(result.validation_errors) == [1, 7]
    assert result.invalid_count == 2
    assert result.validation_errors[1]["input_values.colour"]["code"] == "VALUE_NOT_ALLOWED"
    assert result.validation_errors[7]["input_values.image"]["code"] == "VALUE_REQUIRED"
    valid = [i for i in range(10) if i not in (1, 7)]
    assert len(result.task_ids) == 8
    created = assert_created_once(client, pool_id, [image(i) for i in valid])
    assert [task["id"] for task in created] == result.task_ids
    assert result.tasks_sent == (8 if validate else 10)


def test_sync_mode_without_skipping_rejects_the_batch(client: TolokaClient, pool_id: str) -> None:
    tasks = [{"image": image(0)}, {"image": 17}]
    with pytest.raises(TolokaApiValidationError) as caught:
        client.create_tasks(tasks, pool_id, async_mode=False, validate=False)
    assert caught.value.status == 400
    assert "1" in caught.value.payload
    assert read_back(client, pool_id) == []
    with pytest.raises(TolokaValidationError, match=r"tasks\[1\] is invalid.*input_values.image"):
        client.create_tasks(tasks, pool_id, async_mode=False)


def test_failed_operation_raises_with_counts_and_first_errors(client: TolokaClient, pool_id: str) -> None:
    tasks: list[dict[str, Any]] = [{"image": image(i)} for i in range(5)]
    tasks[2] = {"image": image(2), "size": 42}
    tasks[4] = {}
    result = client.create_tasks(tasks, pool_id, validate=False, skip_invalid_items=False)
    assert len(result.operation_ids) == 1

    with pytest.raises(TolokaOperationFailedError) as caught:
        client.wait_operation(result.operation_ids[0], timeout=10, poll_interval=0.05)
    message = str(caught.value)
    assert caught.value.operation is not None and caught.value.operation.status == "FAIL"
    assert f"Operation {result.operation_ids[0]} (TASK.BATCH_CREATE) failed" in message
    assert "total_count=5" in message and "not_valid_count=2" in message and "failed_count=5" in message
    assert "item 2: input_values.size: VALUE_NOT_ALLOWED" in message
    assert "item 4: input_values.image: VALUE_REQUIRED" in message
    assert "Not created" not in message  # valid items logged as not created do not hide the real errors
    assert "skip_invalid_items=True" in message
    assert read_back(client, pool_id) == []

    assert client.get_operation(result.operation_ids[0]).status == "FAIL"
    with pytest.raises(TolokaOperationFailedError):
        client.create_tasks(tasks, pool_id, validate=False, wait=True)


def test_operation_log_lists_created_tasks(client: TolokaClient, pool_id: str) -> None:
    result = client.create_tasks([{"image": image(i)} for i in range(4)], pool_id, batch_size=4, wait=True)
    log = client.get_operation_log(result.operation_ids[0])
    created = read_back(client, pool_id)
    assert [line["type"] for line in log] == ["TASK_CREATE"] * 4
    assert all(line["success"] for line in log)
    # the input as sent, tagged with the caller's index
    assert [line["input"]["__item_idx"] for line in log] == ["0", "1", "2", "3"]
    assert [line["input"]["input_values"] for line in log] == [{"image": image(i)} for i in range(4)]
    assert [line["output"]["task_id"] for line in log] == [task["id"] for task in created]


def test_skip_invalid_items_in_async_mode_with_local_validation(client: TolokaClient, pool_id: str) -> None:
    tasks = [{"image": image(i)} if i % 4 else {"image": None} for i in range(9)]
    result = client.create_tasks(tasks, pool_id, batch_size=2, skip_invalid_items=True, wait=True)
    assert sorted(result.validation_errors) == [0, 4, 8]
    assert result.invalid_count == 3
    assert result.tasks_sent == 6
    assert len(result.operation_ids) == 3
    assert_created_once(client, pool_id, [image(i) for i in range(9) if i % 4])


def test_tags_name_each_tasks_index_in_the_callers_input_across_batches_and_skips(
    client: TolokaClient, pool_id: str
) -> None:
    tasks = [{"image": image(i)} if i % 4 else {"image": None} for i in range(9)]
    result = client.create_tasks(tasks, pool_id, batch_size=2, skip_invalid_items=True, wait=True)
    tags = [line["input"]["__item_idx"] for op in result.operation_ids for line in client.get_operation_log(op)]
    assert tags == ["1", "2", "3", "5", "6", "7"]
    assert all("__item_idx" not in task for task in tasks)  # the input is not changed
    assert all("__item_idx" not in task for task in read_back(client, pool_id))

    # a generator, unvalidated: the API's failure message names the failing task by its index
    stream = ({"image": image(10 + i), "size": 42} if i == 5 else {"image": image(10 + i)} for i in range(6))
    with pytest.raises(TolokaOperationFailedError, match=r"item 5: input_values.size: VALUE_NOT_ALLOWED"):
        client.create_tasks(stream, pool_id, batch_size=2, validate=False, wait=True)


def test_open_pool_with_the_upload(client: TolokaClient, pool_id: str) -> None:
    client.create_tasks([{"image": image(1)}], pool_id, open_pool=True, wait=True)
    assert client.get_pool(pool_id).status == "OPEN"


def test_wait_operation_times_out(make_client) -> None:
    with TolokaEmulator(operation_delay=30) as slow:
        client = make_client(slow.url, token="any")
        project_id = slow.state.create_project(_minimal_project())["id"]
        pool_id = slow.state.create_pool(_minimal_pool(project_id))["id"]
        result = client.create_tasks([{"image": image(1)}], pool_id)
        with pytest.raises(TolokaOperationTimeoutError, match="still running after 0s: " + result.operation_ids[0]):
            client.wait_operation(result.operation_ids[0], timeout=0.2, poll_interval=0.05)


def test_check_tasks_validates_everything_and_sends_nothing(
    client: TolokaClient, emulator: TolokaEmulator, pool_id: str
) -> None:
    operations_before = len(emulator.state.operations)
    assert client.check_tasks([{"image": image(i)} for i in range(5)], pool_id) == 5
    tasks = [{"image": image(i)} for i in range(5)] + [{"image": 3}]
    with pytest.raises(TolokaValidationError, match=r"tasks\[5\] is invalid: input_values.image: STRING_EXPECTED"):
        client.check_tasks(tasks, pool_id)
    assert client.check_tasks(tasks, pool_id, skip_invalid_items=True) == 5
    assert len(emulator.state.operations) == operations_before
    assert read_back(client, pool_id) == []


@pytest.mark.parametrize(("async_mode", "size"), [(True, 0), (True, 100_001), (False, 5_001)])
def test_batch_size_out_of_range(client: TolokaClient, pool_id: str, async_mode: bool, size: int) -> None:
    with pytest.raises(TolokaValidationError, match="batch_size must be between 1 and"):
        client.create_tasks([{"image": image(1)}], pool_id, async_mode=async_mode, batch_size=size)


def test_progress_logs_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.progress")
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress = UploadProgress(logger, total=10, every=0.0)
        progress.advance(4)
        progress.advance(6)
        progress.finish()
        unknown = UploadProgress(logger, every=0.0)
        unknown.advance(3)
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("Uploaded 4/10 tasks in 1 batches (") and "ETA " in messages[0]
    assert messages[1].startswith("Uploaded 10/10 tasks in 2 batches (") and "ETA 0m00s" in messages[1]
    assert messages[2].startswith("Uploaded 10 tasks in 2 batches in ")
    assert messages[3].startswith("Uploaded 3 tasks in 1 batches (")


def _minimal_project() -> dict[str, Any]:
    return {
        "public_name": "p",
        "public_description": "d",
        "task_spec": {"input_spec": {"image": {"type": "url"}}, "output_spec": {"result": {"type": "string"}}},
    }


def _minimal_pool(project_id: str) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "private_name": "pool",
        "may_contain_adult_content": False,
        "will_expire": "2099-01-01T00:00:00",
        "reward_per_assignment": 0.01,
        "assignment_max_duration_seconds": 60,
        "defaults": {"default_overlap_for_new_task_suites": 1, "default_overlap_for_new_tasks": 1},
    }


def test_large_tasks_are_sent_in_requests_under_the_size_limit(client: TolokaClient, pool_id: str) -> None:
    tasks = [{"image": f"https://example.com/{i}/" + "x" * 200_000} for i in range(12)]  # ~2.4 MB in all
    result = client.create_tasks(tasks, pool_id, batch_size=100, wait=True)
    assert len(result.operation_ids) >= 3 and result.tasks_sent == 12
    assert sorted(t["input_values"]["image"] for t in client.iter_tasks(pool_id)) == sorted(t["image"] for t in tasks)
