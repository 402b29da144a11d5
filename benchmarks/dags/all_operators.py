"""A DAG using every operator of the provider: the file whose parse cost the benchmark measures."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_toloka.operators.toloka import (
    TolokaCreatePoolOperator,
    TolokaCreateProjectOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor

PROJECT = {
    "public_name": "Categories of shoes",
    "public_description": "Look at the picture and determine the category of shoes",
    "task_spec": {
        "input_spec": {"image": {"type": "url", "required": True}},
        "output_spec": {"result": {"type": "string", "required": True, "allowed_values": ["boots", "other"]}},
    },
    "assignments_issuing_type": "AUTOMATED",
}
POOL = {
    "private_name": "Shoes",
    "may_contain_adult_content": False,
    "reward_per_assignment": 0.02,
    "assignment_max_duration_seconds": 60,
}

with DAG("bench_all_operators", start_date=datetime(2025, 1, 1), schedule=None, catchup=False) as dag:
    project = TolokaCreateProjectOperator(task_id="create_project", project_config=PROJECT)
    pool = TolokaCreatePoolOperator(
        task_id="create_pool", pool_config=POOL, project_id=project.output, will_expire="+7d"
    )
    upload = TolokaCreateTasksOperator(task_id="create_tasks", pool_id=pool.output, tasks="/data/{{ ds }}.jsonl")
    wait = TolokaOperationSensor(task_id="wait_tasks", operation_ids=upload.output, deferrable=True)
    opened = TolokaOpenPoolOperator(task_id="open_pool", pool_id=pool.output)
    upload >> wait >> opened
