"""The approval gate example DAG: it parses, its gate is Airflow's ApprovalOperator, its estimate is right."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from airflow_provider_toloka.utils.params import expiry

DAGS = Path(__file__).resolve().parents[2] / "dags_examples"
DAG_FILE = DAGS / "toloka_approval_gate.py"


@pytest.fixture(scope="module")
def gate():
    """The DAG module, imported from its file."""
    spec = importlib.util.spec_from_file_location("toloka_approval_gate", DAG_FILE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_parses_with_no_import_errors_and_gates_the_open():
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    bag = DagBag(dag_folder=str(DAG_FILE))

    assert bag.import_errors == {}
    dag = bag.dags["toloka_approval_gate"]
    approve = dag.get_task("approve_spending")
    assert isinstance(approve, ApprovalOperator) and approve.defaults == ["Reject"]
    assert "estimate_cost" in approve.body and "markdown" in approve.body
    assert approve.upstream_task_ids == {"estimate_cost"}
    assert dag.get_task("open_pool").upstream_task_ids == {"approve_spending", "create_pool"}
    assert dag.get_task("open_pool").close_pool_on_kill and dag.get_task("wait_for_pool").close_pool_on_kill
    assert dag.get_task("create_pool").will_expire == "+2d"


def test_its_estimate_is_right_for_its_pool_config(gate, toloka_conn, client, emulator):
    project = json.loads((DAGS / "toloka_shoes" / "project.json").read_text())
    pool = json.loads((DAGS / gate.POOL_CONFIG).read_text())
    pool.update(project_id=client.create_project(project).id, will_expire=expiry(pool["will_expire"]))
    pool_id = client.create_pool(pool).id
    upload = client.create_tasks(gate.make_tasks.function(params={"n_tasks": 300}), pool_id, allow_defaults=True)
    client.wait_operations(upload.operation_ids, timeout=30, poll_interval=0.05)

    estimate = gate.estimate_cost.function(pool_id, params={"max_cost": 50.0})

    # 300 tasks, 3 per suite, overlap 3: 100 suites done 3 times; 0.02 each plus the 30 % fee
    assert (estimate["tasks"], estimate["task_suites"], estimate["assignments"]) == (300, 100, 300)
    assert estimate["total"] == pytest.approx(300 * 0.02 * 1.3)
    assert estimate["balance"] == emulator.state.requester["balance"]
    assert "| Total (reward + fee) | **7.80** |" in estimate["markdown"]
    assert "| Limit (max_cost) | 50 |" in estimate["markdown"]
