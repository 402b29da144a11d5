"""TaskBatcher without a server: batch boundaries, global indexes of skipped tasks, operation ids."""

from __future__ import annotations

import json

import pytest

from airflow_provider_toloka.client.batching import TaskBatcher
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


def test_operation_ids_depend_on_key_batch_number_and_content():
    first = list(_batcher().batches(_tasks(set())))
    again = list(_batcher().batches(_tasks(set())))
    assert [b.operation_id("k") for b in first] == [b.operation_id("k") for b in again]
    assert len({b.operation_id("k") for b in first}) == len(first)
    assert first[0].operation_id("k") != first[0].operation_id("other key")
    changed = list(_batcher().batches(_tasks(set(), 9) + [{"n": 100}]))
    assert [b.operation_id("k") for b in changed][:3] == [b.operation_id("k") for b in first][:3]
    assert changed[3].operation_id("k") != first[3].operation_id("k")
    assert first[0].operation_id(None) != first[0].operation_id(None)  # no key: random ids
