"""A person approves the spend before a costly pool opens: the estimate is shown in the Airflow UI.

The steps: create the shoes project and a pool (closing by itself 2 days later at the latest),
upload the tasks, estimate what the pool will cost (tasks, task suites, assignments, reward,
platform fee, total) with the requester's balance, then wait for a person's answer in the UI
(Airflow's human-in-the-loop ApprovalOperator: the task shows "Approve" and "Reject" and the
estimate as its body). Approve opens the pool (still refused at once above ``max_cost`` or the
balance) and waits for the labeling; Reject, or no answer within 24 hours, skips both and the pool
never opens, so nothing is spent. A task killed or marked failed while the pool is open closes it
(``close_pool_on_kill=True``).

Airflow 3.1+ has the human-in-the-loop operators (``airflow.providers.standard.operators.hitl``).
On an older Airflow, this file falls back to a gate that passes only when the run was triggered
with ``approved`` ticked: run the DAG once with ``approved`` unticked, read the estimate in the
``estimate_cost`` task's log (or run the operators with ``dry_run=True``), then trigger again with
``approved`` ticked and ``max_cost`` set to the amount you approved; the open step refuses anything
above it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_toloka.operators.toloka import (
    TolokaCreatePoolOperator,
    TolokaCreateProjectOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor, TolokaPoolSensor

try:
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except ImportError:  # Airflow < 3.1, or a standard provider without human-in-the-loop operators
    ApprovalOperator = None

#: The pool config (reward 0.02, 3 tasks per suite, overlap 3) and how long an unanswered approval waits.
POOL_CONFIG = "toloka_shoes/pool.json"
APPROVAL_TIMEOUT = timedelta(hours=24)


@task
def make_tasks(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``n_tasks`` shoe images to label (a small list; use a file for large batches)."""
    assert params is not None
    return [{"image": f"https://example.com/shoes/image_{i}.jpg"} for i in range(params["n_tasks"])]


@task
def estimate_cost(pool_id: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the pool will cost, the requester's balance and a Markdown table of both for the approver."""
    from airflow_provider_toloka.hooks.toloka import TolokaHook

    hook = TolokaHook()
    estimate = hook.estimate_pool_cost(pool_id)
    balance = hook.client.get_requester().get("balance")
    max_cost = (params or {}).get("max_cost")
    logging.getLogger(__name__).info("%s (balance %s, limit %s)", estimate.describe(), balance, max_cost)
    return {**estimate.as_dict(), "balance": balance, "markdown": estimate.markdown(balance, max_cost)}


with DAG(
    dag_id="toloka_approval_gate",
    schedule=None,
    catchup=False,
    tags=["toloka", "example", "approval"],
    default_args={"retries": 3, "retry_delay": timedelta(seconds=5)},
    params={
        "n_tasks": Param(300, type="integer", minimum=1, maximum=10_000, title="Number of tasks"),
        "max_cost": Param(50.0, type="number", minimum=0, title="Most the pool may spend (USD, reward + fee)"),
        "approved": Param(
            False, type="boolean", title="Approved", description="Only on Airflow < 3.1: the spend was approved"
        ),
    },
) as dag:
    create_project = TolokaCreateProjectOperator(task_id="create_project", project_config="toloka_shoes/project.json")
    create_pool = TolokaCreatePoolOperator(
        task_id="create_pool",
        pool_config=POOL_CONFIG,
        project_id=create_project.output,
        private_name="Approved shoes pool {{ dag_run.run_after | ds }}",
        will_expire="+2d",
    )
    upload_tasks = TolokaCreateTasksOperator(task_id="upload_tasks", pool_id=create_pool.output, tasks=make_tasks())
    wait_for_upload = TolokaOperationSensor(
        task_id="wait_for_upload", operation_ids=upload_tasks.output, poke_interval=2, deferrable=True
    )
    estimate = estimate_cost(create_pool.output)

    if ApprovalOperator is not None:
        approve = ApprovalOperator(
            task_id="approve_spending",
            subject=(
                "Open Toloka pool {{ ti.xcom_pull(task_ids='create_pool') }} for up to "
                "{{ '%.2f' | format(ti.xcom_pull(task_ids='estimate_cost')['total']) }} USD?"
            ),
            body="{{ ti.xcom_pull(task_ids='estimate_cost')['markdown'] }}",
            defaults="Reject",
            response_timeout=APPROVAL_TIMEOUT,
        )
    else:

        @task.short_circuit(task_id="approve_spending")
        def approve_by_param(params: dict[str, Any] | None = None) -> bool:
            """Older Airflow: go on only when the run was triggered with ``approved`` ticked."""
            return bool((params or {}).get("approved"))

        approve = approve_by_param()

    open_pool = TolokaOpenPoolOperator(
        task_id="open_pool", pool_id=create_pool.output, max_cost="{{ params.max_cost }}", close_pool_on_kill=True
    )
    wait_for_pool = TolokaPoolSensor(
        task_id="wait_for_pool",
        pool_id=create_pool.output,
        poke_interval=60,
        timeout=2 * 24 * 3600,
        deferrable=True,
        close_pool_on_kill=True,
    )

    wait_for_upload >> estimate >> approve >> open_pool >> wait_for_pool
