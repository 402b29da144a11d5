"""Properties (hypothesis) of batch splitting and of mapping per-item results back to the caller's indexes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_toloka.client.batching import TaskBatcher
from airflow_provider_toloka.client.client import TolokaClient, UploadResult
from airflow_provider_toloka.client.resume import TaskMultiset, fingerprint
from airflow_provider_toloka.client.validation import InputValidator

VALIDATOR = InputValidator({"n": {"type": "integer", "min_value": 0}})

#: What happens to each input task: sent, invalid (skipped locally), or already in the API.
KINDS = st.lists(st.sampled_from(["send", "invalid", "present"]), max_size=300)


def _tasks(kinds: list[str]) -> list[dict[str, Any]]:
    return [{"n": -1 if kind == "invalid" else index} for index, kind in enumerate(kinds)]


@given(kinds=KINDS, batch_size=st.integers(1, 40))
def test_every_task_is_in_exactly_one_batch_in_order_with_its_global_index(kinds: list[str], batch_size: int) -> None:
    present = {index for index, kind in enumerate(kinds) if kind == "present"}
    batcher = TaskBatcher(
        batch_size=batch_size,
        pool_id="7",
        validator_for=lambda pool: VALIDATOR,
        skip_invalid_items=True,
        already_present=lambda task: task["input_values"]["n"] in present,
    )
    tasks = _tasks(kinds)
    batches = list(batcher.batches(tasks))

    sent = [index for index, kind in enumerate(kinds) if kind == "send"]
    assert [task["input_values"]["n"] for batch in batches for task in batch.tasks()] == sent
    assert [batch.count for batch in batches] == [len(batch.tasks()) for batch in batches]
    assert all(batch.count == batch_size for batch in batches[:-1])
    assert all(0 < batch.count <= batch_size for batch in batches)
    assert [batch.number for batch in batches] == list(range(len(batches)))
    for batch in batches:
        for local, task in enumerate(batch.tasks()):
            assert tasks[batch.global_index(local)]["n"] == task["input_values"]["n"]
            assert task["pool_id"] == "7"
    assert sorted(batcher.errors.errors) == [i for i, kind in enumerate(kinds) if kind == "invalid"]
    assert batcher.already_present_count == len(present)


@given(kinds=KINDS, batch_size=st.integers(1, 40), dropped=st.sets(st.integers(0, 299)))
def test_a_batch_without_some_tasks_keeps_the_callers_indexes(
    kinds: list[str], batch_size: int, dropped: set[int]
) -> None:
    batcher = TaskBatcher(
        batch_size=batch_size, pool_id="7", validator_for=lambda pool: VALIDATOR, skip_invalid_items=True
    )
    tasks = _tasks(kinds)
    for batch in batcher.batches(tasks):
        rest = batch.without(lambda task: task["input_values"]["n"] in dropped, number=batch.number + 1)
        kept = [task["input_values"]["n"] for task in batch.tasks() if task["input_values"]["n"] not in dropped]
        if rest is None:
            assert not kept
            continue
        assert [task["input_values"]["n"] for task in rest.tasks()] == kept
        assert [tasks[rest.global_index(local)]["n"] for local in range(rest.count)] == kept


@given(existing=st.lists(st.integers(0, 9), max_size=40), incoming=st.lists(st.integers(0, 9), max_size=40))
def test_the_multiset_takes_each_existing_task_once(existing: list[int], incoming: list[int]) -> None:
    def task(n: int) -> dict[str, Any]:
        return {"pool_id": "7", "input_values": {"n": n}}

    present = TaskMultiset(fingerprint(task(n)) for n in existing)
    sent = [n for n in incoming if not present.take(task(n))]
    assert Counter(sent) == Counter(incoming) - Counter(existing)  # sent only what is not there
    assert len(present) == sum((Counter(existing) - Counter(incoming)).values())  # unmatched, left over


LOCAL = InputValidator(
    {"image": {"type": "string", "required": False, "max_length": 40}, "picture": {"type": "url", "required": False}}
)
SYNC = {"async_mode": "false", "allow_defaults": "false", "skip_invalid_items": "true", "open_pool": "false"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["ok", "local", "server"]), min_size=1, max_size=40), size=st.integers(1, 15))
def test_api_item_errors_map_back_to_the_callers_indexes(
    client: TolokaClient, pool_id: str, kinds: list[str], size: int
) -> None:
    """Tasks skipped locally shift the batch; the API's per-item errors (by index in its request)
    still land on the caller's index (real HTTP, sync mode)."""
    tasks = []
    for index, kind in enumerate(kinds):
        if kind == "ok":
            tasks.append({"image": f"https://e/{index}"})
        elif kind == "local":  # too long for the local rule; never sent
            tasks.append({"image": f"https://example.com/a/rather/long/path/to/{index}.jpg"})
        else:  # passes the local rule, refused by the API (no image)
            tasks.append({"picture": f"https://e/{index}"})
    batcher = TaskBatcher(
        batch_size=size, pool_id=pool_id, default_overlap=1, validator_for=lambda pool: LOCAL, skip_invalid_items=True
    )
    result = UploadResult()
    for batch in batcher.batches(tasks):
        client._submit_sync(batch, SYNC, result)
    assert sorted(batcher.errors.errors) == [i for i, kind in enumerate(kinds) if kind == "local"]
    assert sorted(result.validation_errors) == [i for i, kind in enumerate(kinds) if kind == "server"]
    created = [client.http.request("GET", f"/tasks/{task_id}")["input_values"]["image"] for task_id in result.task_ids]
    assert created == [f"https://e/{i}" for i, kind in enumerate(kinds) if kind == "ok"]
