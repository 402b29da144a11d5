"""Files through Airflow's ObjectStoragePath: tasks read from memory://, labels written back to memory://."""

from __future__ import annotations

import json

from airflow_context import make_context
from crowd_seed import add_answers

from airflow_provider_toloka.operators.results import TolokaAggregateOperator
from airflow_provider_toloka.operators.toloka import TolokaCreateTasksOperator


def test_tasks_from_object_storage_and_labels_back_to_it(toloka_conn, emulator, client, pool_id, memory_storage):
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    source = ObjectStoragePath("memory://inbox/day/tasks.jsonl")
    source.write_text("".join(json.dumps({"image": f"https://example.com/{i}.jpg"}) + "\n" for i in range(4)))
    TolokaCreateTasksOperator(
        task_id="upload", pool_id=pool_id, tasks=str(source), default_overlap=3, wait_for_completion=True
    ).execute(make_context(task_id="upload"))
    tasks = list(client.iter_tasks(pool_id))
    assert len(tasks) == 4
    for user in ("a", "b"):
        add_answers(emulator, pool_id, user, tasks, ["boots", "other", "boots", "sneakers"])

    target = "memory://outbox/day/labels.jsonl"
    result = TolokaAggregateOperator(task_id="aggregate", pool_id=pool_id, output_path=target).execute(make_context())
    rows = [json.loads(line) for line in ObjectStoragePath(target).read_text().splitlines()]
    assert result["path"] == target and result["answered"] == 4
    assert sorted(row["input_values"]["image"] for row in rows) == sorted(t["input_values"]["image"] for t in tasks)
    assert all(row["confidence"] == 1.0 for row in rows)
