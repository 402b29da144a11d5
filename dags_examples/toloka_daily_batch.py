"""A new Toloka pool every day in an existing project, filled from that day's .jsonl file.

The project id comes from the ``project_id`` param or the Airflow Variable ``toloka_project_id``;
the day's file is ``<data_dir>/<day>.jsonl``, where the day is the run's logical date, or the day
it was triggered for a manual run with no logical date. The file is looked for first, so a missing
day fails at once and leaves no empty pool behind. Reruns and retries never duplicate a pool or a task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param, task

from airflow_provider_toloka.operators.toloka import (
    TolokaCreatePoolOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor

#: The day a run is for: its logical date, or when it was triggered for runs without one (UI, REST, CLI).
DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="toloka_daily_batch",
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    tags=["toloka", "example"],
    # Retries are safe: a retried step finds what its first try created instead of duplicating it.
    default_args={"retries": 3, "retry_delay": timedelta(seconds=60)},
    params={
        "project_id": Param(
            None, type=["null", "string"], title="Project id", description="Else the toloka_project_id Variable"
        ),
        "data_dir": Param("/data/toloka", type="string", title="Folder of the daily <day>.jsonl files"),
        "overlap": Param(3, type="integer", minimum=1),
    },
) as dag:

    @task
    def find_day_file(path: str) -> str:
        """The day's tasks file; fails at once, naming it, when it is not there (a retry would not help)."""
        import os

        from airflow.providers.common.compat.sdk import AirflowFailException

        if not os.path.isfile(path):
            raise AirflowFailException(f"No tasks for this day: {path} does not exist")
        return path

    day_file = find_day_file(f"{{{{ params.data_dir }}}}/{DAY}.jsonl")
    create_pool = TolokaCreatePoolOperator(
        task_id="create_pool",
        pool_config="toloka_shoes/pool.json",
        project_id="{{ params.project_id or var.value.get('toloka_project_id', '') }}",
        private_name=f"Daily batch {DAY}",
        will_expire="+2d",
    )
    upload_tasks = TolokaCreateTasksOperator(
        task_id="upload_tasks",
        pool_id=create_pool.output,
        tasks=day_file,
        default_overlap="{{ params.overlap }}",
    )
    wait_for_upload = TolokaOperationSensor(
        task_id="wait_for_upload", operation_ids=upload_tasks.output, poke_interval=5, deferrable=True
    )
    open_pool = TolokaOpenPoolOperator(task_id="open_pool", pool_id=create_pool.output)

    day_file >> create_pool
    upload_tasks >> wait_for_upload >> open_pool
