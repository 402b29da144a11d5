"""The batcher takes its input a chunk at a time: any kind of source gives the same batches, the
``already_present`` check sees each task only after the batches before it were sent, and the body is
the JSON of the tasks as the json module would write it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_toloka.client.batching import TaskBatcher, encode
from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.resume import TaskMultiset, fingerprint
from airflow_provider_toloka.client.validation import InputValidator

VALIDATOR = InputValidator({"n": {"type": "integer", "min_value": 0}, "text": {"type": "string", "required": False}})


def _tasks(values: list[int], text: str = "") -> list[dict[str, Any]]:
    return [{"n": n, "text": f"{text}{i}"} for i, n in enumerate(values)]


def _sent(batcher: TaskBatcher, source: Any) -> list[tuple[int, int, bytes, list[int]]]:
    return [
        (batch.number, batch.count, batch.body, [batch.global_index(i) for i in range(batch.count)])
        for batch in batcher.batches(source)
    ]


@given(values=st.lists(st.integers(-1, 5), max_size=60), size=st.integers(1, 9), big=st.booleans())
def test_lists_tuples_and_generators_give_the_same_batches(values: list[int], size: int, big: bool) -> None:
    tasks = _tasks(values, "x" * 300_000 if big else "")  # big: about 3 tasks fit in one request

    def batcher() -> TaskBatcher:
        return TaskBatcher(batch_size=size, pool_id="7", validator_for=lambda pool: VALIDATOR, skip_invalid_items=True)

    expected = _sent(batcher(), tasks)
    assert _sent(batcher(), tuple(tasks)) == expected
    assert _sent(batcher(), iter(tasks)) == expected
    valid = [i for i, n in enumerate(values) if n >= 0]
    assert [index for *_, indexes in expected for index in indexes] == valid


def test_already_present_sees_a_task_only_after_the_batches_before_it_were_sent() -> None:
    """A 409 while sending batch k may add tasks to the present multiset: tasks after that batch must
    be checked against it then, not when their chunk was read."""
    present = TaskMultiset()
    batcher = TaskBatcher(
        batch_size=3,
        pool_id="7",
        validator_for=lambda pool: VALIDATOR,
        skip_invalid_items=True,
        already_present=present.take,
    )
    tasks = _tasks([0, -1, 2, 3, 4, 5, 6])  # task 1 is skipped: batch 0 takes task 3 from the second chunk
    tasks[5] = tasks[4] = tasks[3] = {"n": 9, "text": "same"}
    sent: list[list[int]] = []
    for batch in batcher.batches(tasks):
        sent.append([batch.global_index(i) for i in range(batch.count)])
        if batch.number == 0:  # as if the API told of two copies of task 3 created by an earlier try
            twin = {"pool_id": "7", "input_values": {"n": 9, "text": "same"}}
            present.add(TaskMultiset([fingerprint(twin), fingerprint(twin)]))
    assert sent == [[0, 2, 3], [6]]
    assert batcher.already_present_count == 2


def test_the_first_invalid_task_is_named_even_before_a_later_broken_one() -> None:
    tasks: list[Any] = [{"n": 1}, {"n": -1}, "not a task"]
    batcher = TaskBatcher(batch_size=10, pool_id="7", validator_for=lambda pool: VALIDATOR)
    with pytest.raises(TolokaValidationError, match=r"tasks\[1\] is invalid: input_values.n: VALUE_LESS_THAN_MIN"):
        list(batcher.batches(tasks))
    with pytest.raises(TolokaValidationError, match=r"tasks\[1\]: a task must be an object, got str"):
        list(TaskBatcher(batch_size=10, pool_id="7", validator_for=lambda pool: VALIDATOR).batches(tasks[::2]))


def test_tasks_of_several_pools_are_checked_by_their_own_pools_validators() -> None:
    strict = InputValidator({"n": {"type": "integer", "max_value": 0}})
    validators = {"a": VALIDATOR, "b": strict}

    def gen() -> Iterator[dict[str, Any]]:
        for pool in "aabba":
            yield {"pool_id": pool, "input_values": {"n": 1}}

    batcher = TaskBatcher(batch_size=10, validator_for=validators.get, skip_invalid_items=True)
    (batch,) = batcher.batches(gen())
    assert [batch.global_index(i) for i in range(batch.count)] == [0, 1, 4]
    assert sorted(batcher.errors.errors) == [2, 3]


@pytest.mark.parametrize(
    "value", [{"a": [1, 2.5, None, True]}, "naïve ✓ \u2028", 10**20, -0.5, [], {"k": {"nested": "x"}}]
)
def test_the_body_is_the_compact_json_of_the_tasks(value: Any) -> None:
    tasks = [{"pool_id": "7", "input_values": {"v": value}}]
    assert json.loads(encode(tasks)) == tasks
    assert encode(tasks) == json.dumps(tasks, ensure_ascii=False, separators=(",", ":")).encode()


def test_an_index_tag_carries_each_tasks_global_index_without_changing_the_input() -> None:
    tasks = _tasks([0, -1, 2, 3])
    batcher = TaskBatcher(
        batch_size=2,
        pool_id="7",
        validator_for=lambda pool: VALIDATOR,
        skip_invalid_items=True,
        index_tag="__item_idx",
    )
    sent = [task for batch in batcher.batches(tasks) for task in batch.tasks()]
    assert [task["__item_idx"] for task in sent] == ["0", "2", "3"]
    assert [task["input_values"]["n"] for task in sent] == [0, 2, 3]
    assert all("__item_idx" not in task for task in tasks)
