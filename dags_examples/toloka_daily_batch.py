"""A new Toloka pool every day in an existing project, filled from that day's .jsonl file.

The project id comes from the ``project_id`` param or the Airflow Variable ``toloka_project_id``;
the day's file is ``<data_dir>/<ds>.jsonl``. Reruns and retries never duplicate a pool or a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param

from airflow_provider_toloka.operators.toloka import (
    TolokaCreatePoolOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor

with DAG(
    dag_id="toloka_daily_batch",
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    tags=["toloka", "example"],
    # Retries are safe: a retried step finds what its first try created instead of duplicating it.
    default_args={"retries": 3, "retry_delay": timedelta(seconds=60)},
    params={
        "project_id": Param("", type="string", title="Project id (else the toloka_project_id Variable)"),
        "data_dir": Param("/data/toloka", type="string", title="Folder of the daily <ds>.jsonl files"),
        "overlap": Param(3, type="integer", minimum=1),
    },
) as dag:
    create_pool = TolokaCreatePoolOperator(
        task_id="create_pool",
        pool_config="toloka_shoes/pool.json",
        project_id="{{ params.project_id or var.value.get('toloka_project_id', '') }}",
        private_name="Daily batch {{ ds }}",
        will_expire="+2d",
    )
    upload_tasks = TolokaCreateTasksOperator(
        task_id="upload_tasks",
        pool_id=create_pool.output,
        tasks="{{ params.data_dir }}/{{ ds }}.jsonl",
        default_overlap="{{ params.overlap }}",
    )
    wait_for_upload = TolokaOperationSensor(
        task_id="wait_for_upload", operation_id=upload_tasks.output, poke_interval=5
    )
    open_pool = TolokaOpenPoolOperator(task_id="open_pool", pool_id=create_pool.output)

    upload_tasks >> wait_for_upload >> open_pool
