"""TaskBatcher without a server: batch boundaries, global indexes of skipped tasks, operation ids."""

from __future__ import annotations

import json

import pytest

from airflow_provider_toloka.client.batching import TaskBatcher, upload_operation_id
from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.validation import InputValidator

VALIDATOR = InputValidator({"n": {"type": "integer", "min_value": 0}})


def _batcher(**options) -> TaskBatcher:
    return TaskBatcher(batch_size=3, pool_id="9", validator_for=lambda pool: VALIDATOR, **options)


def _tasks(invalid: set[int], count: int = 10) -> list[dict]:
    return [{"n": -1 if i in invalid else i} for i in range(count)]


@pytest.mark.parametrize(
    ("invalid", "expected"),
    [
        (set(), [(0, None, [0, 1, 2]), (3, None, [3, 4, 5]), (6, None, [6, 7, 8]), (9, None, [9])]),
        ({0, 4, 5}, [(1, None, [1, 2, 3]), (6, None, [6, 7, 8]), (9, None, [9])]),
        ({2}, [(0, [0, 1, 3], [0, 1, 3]), (4, None, [4, 5, 6]), (7, None, [7, 8, 9])]),
        ({1, 8}, [(0, [0, 2, 3], [0, 2, 3]), (4, None, [4, 5, 6]), (7, [7, 9], [7, 9])]),
    ],
)
def test_skipped_tasks_keep_the_callers_indexes(invalid, expected):
    batcher = _batcher(skip_invalid_items=True)
    batches = list(batcher.batches(_tasks(invalid)))
    got = []
    for batch in batches:
        sent = [task["input_values"]["n"] for task in json.loads(batch.body)]
        assert sent == [batch.global_index(i) for i in range(batch.count)]
        got.append((batch.start, batch.positions, sent))
    assert got == expected
    assert sorted(batcher.errors.errors) == sorted(invalid) and batcher.errors.count == len(invalid)


def test_without_skipping_the_first_invalid_task_stops_the_stream_with_its_index():
    batches = _batcher().batches(_tasks({7}))
    assert [b.start for b in (next(batches), next(batches))] == [0, 3]
    with pytest.raises(TolokaValidationError, match=r"tasks\[7\] is invalid: input_values.n: VALUE_LESS_THAN_MIN"):
        next(batches)


def test_operation_ids_depend_on_key_and_number_only():
    ids = [upload_operation_id("k", number) for number in range(5)]
    assert ids == [upload_operation_id("k", number) for number in range(5)]  # enumerable by a retry
    assert len(set(ids)) == 5
    assert upload_operation_id("k", 0) != upload_operation_id("other key", 0)
    assert upload_operation_id(None, 0) != upload_operation_id(None, 0)  # no key: random ids


def test_already_present_tasks_are_not_batched_and_keep_the_callers_indexes():
    present = {2, 3, 7}
    batcher = _batcher(already_present=lambda task: task["input_values"]["n"] in present)
    batches = list(batcher.batches(_tasks(set())))
    sent = [[task["input_values"]["n"] for task in batch.tasks()] for batch in batches]
    assert sent == [[0, 1, 4], [5, 6, 8], [9]]
    assert [[b.global_index(i) for i in range(b.count)] for b in batches] == sent
    assert batcher.already_present_count == 3 and batcher.errors.count == 0


def test_a_batch_without_some_tasks_keeps_their_indexes():
    batch = next(_batcher().batches(_tasks(set())))
    rest = batch.without(lambda task: task["input_values"]["n"] == 1, number=7)
    assert rest is not None and rest.number == 7 and rest.count == 2
    assert [rest.global_index(i) for i in range(2)] == [0, 2]
    assert [task["input_values"]["n"] for task in rest.tasks()] == [0, 2]
    assert batch.without(lambda task: True, number=8) is None


def test_batches_are_split_to_stay_under_the_request_size_limit() -> None:
    from airflow_provider_toloka.client.batching import MAX_REQUEST_INPUT_BYTES

    text = "x" * 100_000  # ~100 KB of input_values per task: about 10 fit in one request
    tasks = [{"text": text, "n": i} for i in range(35)]
    batches = list(TaskBatcher(batch_size=1000, pool_id="7").batches(tasks))
    assert len(batches) > 3 and all(len(b.body) <= MAX_REQUEST_INPUT_BYTES for b in batches)
    assert [b.number for b in batches] == list(range(len(batches)))
    sent = [(b.global_index(i), t["input_values"]["n"]) for b in batches for i, t in enumerate(json.loads(b.body))]
    assert sent == [(i, i) for i in range(35)]  # order and global indexes kept
    again = list(TaskBatcher(batch_size=1000, pool_id="7").batches(tasks))
    assert [b.body for b in again] == [b.body for b in batches]  # the same split on every run


def test_one_task_over_the_request_size_limit_is_refused_naming_it() -> None:
    tasks = [{"text": "small"}, {"text": "x" * 1_100_000}]
    with pytest.raises(TolokaValidationError, match=r"tasks\[1\] is invalid: its input_values are 1,100,0\d\d bytes"):
        list(TaskBatcher(batch_size=10, pool_id="7").batches(tasks))
