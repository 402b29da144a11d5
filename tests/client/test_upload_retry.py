"""Exactly once whatever the retry sends: a second try with the same key re-batches, reorders, grows,
shrinks or repeats rows, and every input task is in the pool once (twice when it is twice in the input)."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from quickstart import UNLIMITED_QUOTAS

from airflow_provider_toloka.client.batching import scoped_upload_key, upload_operation_id
from airflow_provider_toloka.client.client import TolokaClient, UploadResult
from airflow_provider_toloka.client.errors import TolokaOperationTimeoutError
from airflow_provider_toloka.testing import TolokaEmulator


def image(number: int) -> str:
    return f"https://example.com/retry/{number}.jpg"


def rows(numbers: Iterable[int]) -> list[dict[str, Any]]:
    return [{"image": image(n)} for n in numbers]


def pool_images(client: TolokaClient, pool_id: str) -> Counter[str]:
    return Counter(task["input_values"]["image"] for task in client.iter_tasks(pool_id, page_size=97))


def upload(client: TolokaClient, pool_id: str, tasks: Iterable[Any], batch_size: int, **options: Any) -> UploadResult:
    return client.create_tasks(tasks, pool_id, idempotency_key="retry-key", batch_size=batch_size, wait=True, **options)


def shuffled(numbers: Iterable[int], seed: int) -> list[int]:
    result = list(numbers)
    random.Random(seed).shuffle(result)
    return result


def dying_after(tasks: list[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    """The tasks, until the worker "dies" after handing out ``count`` of them."""
    for index, task in enumerate(tasks):
        if index == count:
            raise RuntimeError("worker killed")
        yield task


@pytest.mark.parametrize(
    ("first", "second", "second_batch"),
    [
        pytest.param(list(range(50)), list(range(50)), 7, id="batch-size-changed"),
        pytest.param(list(range(50)), shuffled(range(50), 1), 10, id="rows-reordered"),
        pytest.param(list(range(30)), shuffled(range(50), 2), 9, id="input-grown"),
        pytest.param([*range(25), 3, 3, 7], [3, 3, 3, *range(50), 7], 6, id="rows-legitimately-repeated"),
    ],
)
def test_a_second_try_creates_each_input_task_once(
    client: TolokaClient, pool_id: str, first: list[int], second: list[int], second_batch: int, caplog
) -> None:
    upload(client, pool_id, rows(first), 10)
    with caplog.at_level(logging.INFO):
        result = upload(client, pool_id, rows(second), second_batch)
    expected = Counter(image(n) for n in second)
    assert pool_images(client, pool_id) == expected
    already = sum((Counter(first) & Counter(second)).values())
    assert (result.tasks_already_present, result.tasks_sent) == (already, len(second) - already)
    operations = -(-len(first) // 10)
    assert f"Found {len(first)} task(s) from {operations} earlier operation(s) of this upload" in caplog.text
    assert f"{already} task(s) were already created by {operations} earlier operation(s) of this upload; sent " in (
        caplog.text
    )
    assert all(operation.status == "SUCCESS" for operation in result.operations)
    assert (
        len(result.operation_ids)
        == len(set(result.operation_ids))
        == operations + -(-(len(second) - already) // second_batch)
    )


def test_a_shrunk_input_sends_nothing_and_says_what_it_does_not_match(client: TolokaClient, pool_id: str, caplog):
    upload(client, pool_id, rows(range(50)), 10)
    with caplog.at_level(logging.INFO):
        result = upload(client, pool_id, rows(shuffled(range(30), 3)), 8)
    assert (result.tasks_sent, result.tasks_already_present) == (0, 30)
    assert pool_images(client, pool_id) == Counter(image(n) for n in range(50))
    assert "20 task(s) created by earlier tries of this upload match no task of this input" in caplog.text


def test_a_first_try_killed_midway_then_retried_otherwise(client: TolokaClient, pool_id: str) -> None:
    tasks = rows(range(100))
    with pytest.raises(RuntimeError, match="worker killed"):
        upload(client, pool_id, dying_after(tasks, 45), 10)  # 4 batches out, the 5th half read
    client.wait_operations([upload_operation_id(scoped_upload_key("retry-key", pool_id), n) for n in range(4)])
    assert sum(pool_images(client, pool_id).values()) == 40
    result = upload(client, pool_id, rows(shuffled(range(100), 4)), 33)
    assert (result.tasks_already_present, result.tasks_sent) == (40, 60)
    assert pool_images(client, pool_id) == Counter(image(n) for n in range(100))
    # a third try finds everything and sends nothing
    again = upload(client, pool_id, rows(shuffled(range(100), 5)), 100)
    assert (again.tasks_already_present, again.tasks_sent) == (100, 0)
    assert again.operation_ids == result.operation_ids


def test_a_first_try_costs_one_lookup(client: TolokaClient, pool_id: str, emulator: TolokaEmulator) -> None:
    key = "never-used-before"
    result = client.create_tasks(rows(range(5)), pool_id, idempotency_key=key, batch_size=2)
    assert result.operation_ids == [upload_operation_id(scoped_upload_key(key, pool_id), n) for n in range(3)]
    assert result.tasks_already_present == 0


def test_a_failed_operation_created_nothing_and_its_tasks_are_sent_again(client: TolokaClient, pool_id: str) -> None:
    bad = [*rows(range(10)), {"picture": image(10)}]  # the required image is missing
    with pytest.raises(Exception, match=r"FAIL|failed"):
        upload(client, pool_id, bad, 11, validate=False)  # the API refuses the whole batch
    assert not pool_images(client, pool_id)
    result = upload(client, pool_id, rows(range(12)), 5)
    assert (result.tasks_already_present, result.tasks_sent) == (0, 12)
    assert (
        upload_operation_id(scoped_upload_key("retry-key", pool_id), 0) not in result.operation_ids
    )  # the failed one is not waited for
    assert result.operation_ids[0] == upload_operation_id(scoped_upload_key("retry-key", pool_id), 1)
    assert pool_images(client, pool_id) == Counter(image(n) for n in range(12))


def test_skipped_invalid_items_are_tried_again_and_the_created_ones_are_not(client: TolokaClient, pool_id: str):
    bad = [*rows(range(10)), {"picture": image(10)}]  # the required image is missing
    first = upload(client, pool_id, bad, 4, validate=False, skip_invalid_items=True)
    assert sum(pool_images(client, pool_id).values()) == 10
    result = upload(client, pool_id, list(reversed(bad)), 3, validate=False, skip_invalid_items=True)
    assert (result.tasks_already_present, result.tasks_sent) == (10, 1)  # only the invalid one, again
    assert pool_images(client, pool_id) == Counter(image(n) for n in range(10))
    assert result.operation_ids[: len(first.operation_ids)] == first.operation_ids


def test_a_retry_waits_for_running_operations_of_earlier_tries(make_client, shoes_project, shoes_pool) -> None:
    with TolokaEmulator(operation_delay=1.0, **UNLIMITED_QUOTAS) as slow:
        client = make_client(slow.url, token="any")
        pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
        client.create_tasks(rows(range(20)), pool_id, idempotency_key="k", batch_size=5)  # running, not waited for
        with pytest.raises(TolokaOperationTimeoutError, match=r"still running after 0s.*No further task was sent"):
            client.create_tasks(rows(range(20)), pool_id, idempotency_key="k", batch_size=3, wait_timeout=0.2)
        result = client.create_tasks(rows(shuffled(range(25), 6)), pool_id, idempotency_key="k", batch_size=3)
        assert (result.tasks_already_present, result.tasks_sent) == (20, 5)
        client.wait_operations(result.operation_ids, timeout=10, poll_interval=0.2)
        assert pool_images(client, pool_id) == Counter(image(n) for n in range(25))


def test_an_operation_that_lands_after_the_lookup_is_read_and_not_repeated(
    client: TolokaClient, pool_id: str, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """A late request of a killed try (or a concurrent try) creates operation N after this try found
    N-1 operations: the 409 on N makes this try read it and send only what it lacks."""
    upload(client, pool_id, rows(range(20)), 10)
    looked_up = client._earlier_upload

    def then_a_late_request_lands(*args: Any, **kwargs: Any):
        earlier = looked_up(*args, **kwargs)
        late_id = upload_operation_id(scoped_upload_key("retry-key", pool_id), earlier.next_number)
        body = [{"pool_id": pool_id, "input_values": {"image": image(n)}, "overlap": 1} for n in range(20, 26)]
        client.http.request("POST", "/tasks", params={"async_mode": "true", "operation_id": late_id}, json_body=body)
        return earlier

    monkeypatch.setattr(client, "_earlier_upload", then_a_late_request_lands)
    with caplog.at_level(logging.INFO):
        result = upload(client, pool_id, rows(shuffled(range(40), 7)), 8)
    assert pool_images(client, pool_id) == Counter(image(n) for n in range(40))
    assert result.tasks_already_present + result.tasks_sent == 40
    assert "already existed" in caplog.text
    assert upload_operation_id(scoped_upload_key("retry-key", pool_id), 2) in result.operation_ids
