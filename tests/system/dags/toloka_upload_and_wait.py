"""An upload that waits for its own operations in the triggerer, then a deferred open (run by tests/system)."""

from __future__ import annotations

from airflow.sdk import DAG

from airflow_provider_toloka.operators.toloka import TolokaCreateTasksOperator, TolokaOpenPoolOperator

with DAG("toloka_upload_and_wait", schedule=None, default_args={"retries": 1}):
    upload = TolokaCreateTasksOperator(
        task_id="upload",
        pool_id="{{ dag_run.conf['pool_id'] }}",
        tasks=[{"image": f"https://example.com/wait/{i}.jpg"} for i in range(20)],
        wait_for_completion=True,
        deferrable=True,
        poll_interval=0.5,
    )
    open_pool = TolokaOpenPoolOperator(
        task_id="open", pool_id="{{ dag_run.conf['pool_id'] }}", deferrable=True, poll_interval=0.5
    )
    upload >> open_pool
