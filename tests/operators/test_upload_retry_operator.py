"""The upload operator retried or cleared with an input that changed since the first try."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from airflow_context import make_context

from airflow_provider_toloka.operators.toloka import TolokaCreateTasksOperator


def _write(path: Path, numbers: list[int]) -> str:
    path.write_text("".join(json.dumps({"image": f"https://example.com/op/{n}.jpg"}) + "\n" for n in numbers))
    return str(path)


def _run(pool_id: str, tasks_file: str, batch_size: int) -> list[str]:
    operator = TolokaCreateTasksOperator(task_id="upload", pool_id=pool_id, tasks=tasks_file, batch_size=batch_size)
    return operator.execute(make_context(task_id="upload", run_id="run_cleared"))


def test_a_cleared_upload_of_a_grown_reordered_file_with_another_batch_size_creates_each_task_once(
    toloka_conn, client, pool_id, tmp_path: Path
) -> None:
    path = tmp_path / "day.jsonl"
    first = _run(pool_id, _write(path, list(range(30))), 10)  # the day's file, still being written
    numbers = list(range(45))
    random.Random(3).shuffle(numbers)
    second = _run(pool_id, _write(path, numbers), 8)  # "Clear" after it was complete, batch_size edited
    assert second[: len(first)] == first  # the earlier operations are still the upload's
    client.wait_operations(second, timeout=30, poll_interval=0.1)
    images = Counter(task["input_values"]["image"] for task in client.iter_tasks(pool_id))
    assert images == Counter(f"https://example.com/op/{n}.jpg" for n in range(45))
    # cleared again with nothing new: succeeds (nothing to send is not an empty file) and sends nothing
    assert _run(pool_id, str(path), 100) == second
