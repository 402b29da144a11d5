"""The Toloka quickstart as a DAG: the shoes project and a pool, tasks uploaded, labeled, reviewed, aggregated.

create project -> create pool -> upload tasks -> wait for the upload -> open the pool -> wait
(deferred) until the pool is COMPLETED -> accept the submitted work -> one answer per task by
majority vote, written beside the generated tasks (``<staging>/toloka_shoes_quickstart/<run>.labels.jsonl``).

Trigger it from the Airflow UI: the form asks for the number of tasks (or a .jsonl/.json file of
tasks), the reward per assignment and the overlap. Ids and file addresses flow between the steps
through XCom, never rows.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param, task

from airflow_provider_toloka.operators.toloka import (
    TolokaAggregateOperator,
    TolokaCreatePoolOperator,
    TolokaCreateProjectOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
    TolokaReviewAssignmentsOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor, TolokaPoolSensor


def staging_file(staging_url: str, run_id: str, suffix: str) -> str:
    """``<staging_url>/toloka_shoes_quickstart/<run id><suffix>``, the folder made; a temp folder by default.

    ``staging_url`` is any address Airflow's ObjectStoragePath understands: set the Variable
    ``toloka_staging_url`` to object storage (``s3://bucket/prefix``) when tasks run on workers that
    share no disk.
    """
    import re
    import tempfile

    from airflow.providers.common.compat.sdk import ObjectStoragePath

    base = ObjectStoragePath(staging_url or f"file://{tempfile.gettempdir()}/toloka_staging")
    path = base / "toloka_shoes_quickstart" / (re.sub(r"[^A-Za-z0-9._-]", "_", run_id) + suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


#: Where generated tasks and results go (the Variable toloka_staging_url; a temp folder when unset).
STAGING_URL = "{{ var.value.get('toloka_staging_url', '') }}"

with DAG(
    dag_id="toloka_shoes_quickstart",
    schedule=None,
    catchup=False,
    tags=["toloka", "example"],
    # Retries are safe: a retried step finds what its first try created instead of duplicating it.
    default_args={"retries": 3, "retry_delay": timedelta(seconds=5)},
    params={
        "n_tasks": Param(20, type="integer", minimum=1, maximum=1_000_000, title="Number of generated tasks"),
        "tasks_file": Param(
            None,
            type=["null", "string"],
            title="Tasks file",
            description="Optional: a .jsonl or .json file of tasks; overrides n_tasks",
        ),
        "reward": Param(0.02, type="number", minimum=0.005, title="Reward per assignment (USD)"),
        "overlap": Param(3, type="integer", minimum=1, title="Overlap (answers per task)"),
        "batch_size": Param(10_000, type="integer", minimum=1, maximum=100_000, title="Tasks per upload operation"),
    },
) as dag:

    @task
    def prepare_tasks(staging_url: str, params: dict | None = None, run_id: str | None = None) -> str:
        """The tasks file to upload: the given one, or n generated shoe images in a .jsonl file.

        The generated file is written under ``staging_url`` (see ``staging_file``); the next task gets
        its address, not its rows.
        """
        import json

        from airflow.providers.common.compat.sdk import ObjectStoragePath

        if params["tasks_file"]:
            return params["tasks_file"]
        path = ObjectStoragePath(staging_file(staging_url, run_id, ".jsonl"))
        with path.open("w", encoding="utf-8") as handle:
            for i in range(params["n_tasks"]):
                handle.write(json.dumps({"image": f"https://example.com/shoes/image_{i}.jpg"}) + "\n")
        return str(path)

    @task
    def results_file(staging_url: str, run_id: str | None = None) -> str:
        """Where the aggregated labels go: beside the generated tasks."""
        return staging_file(staging_url, run_id, ".labels.jsonl")

    create_project = TolokaCreateProjectOperator(task_id="create_project", project_config="toloka_shoes/project.json")
    create_pool = TolokaCreatePoolOperator(
        task_id="create_pool",
        pool_config="toloka_shoes/pool.json",
        project_id=create_project.output,
        private_name="Shoes pool {{ dag_run.run_after | ds }}",
        pool_overrides={"reward_per_assignment": "{{ params.reward }}"},
        will_expire="+7d",
    )
    upload_tasks = TolokaCreateTasksOperator(
        task_id="upload_tasks",
        pool_id=create_pool.output,
        tasks=prepare_tasks(STAGING_URL),
        default_overlap="{{ params.overlap }}",
        batch_size="{{ params.batch_size }}",
    )
    wait_for_upload = TolokaOperationSensor(
        task_id="wait_for_upload", operation_ids=upload_tasks.output, poke_interval=2, deferrable=True
    )
    open_pool = TolokaOpenPoolOperator(task_id="open_pool", pool_id=create_pool.output)
    # Labeling takes a while: the wait is deferred, so no worker slot is held meanwhile.
    wait_for_labels = TolokaPoolSensor(
        task_id="wait_for_labels", pool_id=create_pool.output, poke_interval=5, deferrable=True
    )
    accept_answers = TolokaReviewAssignmentsOperator(
        task_id="accept_answers", pool_id=create_pool.output, policy="accept_all"
    )
    aggregate = TolokaAggregateOperator(
        task_id="aggregate", pool_id=create_pool.output, output_path=results_file(STAGING_URL)
    )

    upload_tasks >> wait_for_upload >> open_pool >> wait_for_labels >> accept_answers >> aggregate
