"""Every day, the whole labeling loop: a new pool filled from the day's .jsonl file, labeled, reviewed, aggregated.

upload -> wait for the upload operations -> open the pool -> wait (deferred) until the pool is
COMPLETED -> accept or reject the submitted work by majority agreement -> one aggregated answer per
task in ``<results_dir>/<day>.jsonl``, published as the Asset ``toloka_daily_labels`` (the DAG
``toloka_daily_labels_report`` runs on each new file).

The project id comes from the ``project_id`` param or the Airflow Variable ``toloka_project_id``;
the day's file is ``<data_dir>/<day>.jsonl``, where the day is the run's logical date, or the day
it was triggered for a manual run with no logical date. The file is looked for first, so a missing
day fails at once and leaves no empty pool behind. Reruns and retries never duplicate a pool or a
task, nor review an assignment twice. The pool expires two days after it was created, so a pool
nobody waits for any more stops by itself.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Asset, Param, task

from airflow_provider_toloka.operators.toloka import (
    TolokaAggregateOperator,
    TolokaCreatePoolOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
    TolokaReviewAssignmentsOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor, TolokaPoolSensor

#: The day a run is for: its logical date, or when it was triggered for runs without one (UI, REST, CLI).
DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"
#: The day's aggregated labels; its events carry the file's path, the pool id and the counts.
DAILY_LABELS = Asset("toloka_daily_labels")

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
        "results_dir": Param(
            None,
            type=["null", "string"],
            title="Where the results go",
            description="A folder or an object storage URL (s3://bucket/prefix); else <data_dir>/results",
        ),
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
        # answers wait for the review step instead of being paid for as they come
        pool_overrides={"auto_accept_solutions": False, "auto_accept_period_day": 3},
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
    # Labeling takes hours: the wait is deferred, so no worker slot is held meanwhile.
    wait_for_labels = TolokaPoolSensor(
        task_id="wait_for_labels", pool_id=create_pool.output, poke_interval=15, deferrable=True
    )
    review = TolokaReviewAssignmentsOperator(
        task_id="review", pool_id=create_pool.output, policy="majority", min_accuracy=0.5
    )
    aggregate = TolokaAggregateOperator(
        task_id="aggregate",
        pool_id=create_pool.output,
        output_path=f"{{{{ params.results_dir or params.data_dir ~ '/results' }}}}/{DAY}.jsonl",
        outlets=[DAILY_LABELS],
    )

    day_file >> create_pool
    upload_tasks >> wait_for_upload >> open_pool >> wait_for_labels >> review >> aggregate
