"""The example DAGs: parsed by a DagBag, and run whole with ``airflow dags test`` against the emulator."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airflow_context import connection_json
from quickstart import QUICKSTART_TASK_IDS

from airflow_provider_toloka.testing import TolokaEmulator

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags_examples"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
TOKEN = "system-test-key-7c1f"


def test_example_dags_import_cleanly_with_the_expected_graph():
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag
    from airflow.sdk.definitions.xcom_arg import XComArg

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    quickstart, daily = bag.dags["toloka_shoes_quickstart"], bag.dags["toloka_daily_batch"]
    assert set(quickstart.task_ids) == set(QUICKSTART_TASK_IDS)
    assert quickstart.get_task("open_pool").upstream_task_ids == {"wait_for_upload", "create_pool"}
    assert quickstart.get_task("wait_for_labels").upstream_task_ids == {"open_pool", "create_pool"}
    assert quickstart.get_task("aggregate").upstream_task_ids == {"accept_answers", "results_file", "create_pool"}
    assert quickstart.get_task("wait_for_upload").upstream_task_ids == {"upload_tasks"}
    assert quickstart.schedule is None and set(quickstart.params) >= {"n_tasks", "tasks_file", "reward", "overlap"}
    pool, upload = quickstart.get_task("create_pool"), quickstart.get_task("upload_tasks")
    assert isinstance(pool.project_id, XComArg) and pool.project_id.operator.task_id == "create_project"
    assert isinstance(upload.pool_id, XComArg) and upload.pool_id.operator.task_id == "create_pool"
    assert isinstance(upload.tasks, XComArg) and upload.tasks.operator.task_id == "prepare_tasks"
    assert daily.catchup is False and daily.schedule == "@daily"
    assert daily.get_task("upload_tasks").tasks.operator.task_id == "find_day_file"
    assert daily.get_task("create_pool").upstream_task_ids == {"find_day_file"}
    assert daily.get_task("aggregate").upstream_task_ids == {"create_pool", "review"}
    (labels,) = daily.get_task("aggregate").outlets
    report = bag.dags["toloka_daily_labels_report"]
    assert labels.name == "toloka_daily_labels"
    assert [asset.name for asset in report.timetable.asset_condition.objects] == [labels.name]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated Airflow home whose DAGs are dags_examples; returns the environment to run it."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
    }
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=180)
    return env


def run_dag(env: dict[str, str], url: str, *args: str, expect: str = "success", **extra: Any) -> str:
    """Run ``airflow dags test ARGS`` with ``toloka_default`` on ``url``; return its output."""
    env = {**env, "AIRFLOW_CONN_TOLOKA_DEFAULT": connection_json(url, TOKEN, backoff_base=0.01, **extra)}
    done = subprocess.run(
        [AIRFLOW, "dags", "test", *args], env=env, capture_output=True, text=True, timeout=300, cwd=REPO
    )
    output = done.stdout + done.stderr
    assert f"state={expect}" in output, output[-5000:]
    assert done.returncode == 0 or expect != "success", output[-5000:]
    assert TOKEN not in output
    return output


def run_state(env: dict[str, str], dag_id: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Return values in XCom (task id -> value) and try numbers of the DAG's latest run."""
    returned, tries, _ = run_details(env, dag_id)
    return returned, tries


def run_details(env: dict[str, str], dag_id: str) -> tuple[dict[str, Any], dict[str, int], dict[str, str]]:
    """XCom return values, try numbers and states (task id -> ...) of the DAG's latest run."""
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as db:
        (run_id,) = db.execute(
            "select run_id from dag_run where dag_id = ? order by id desc limit 1", (dag_id,)
        ).fetchone()
        xcoms = db.execute(
            "select task_id, key, value from xcom where dag_id = ? and run_id = ?", (dag_id, run_id)
        ).fetchall()
        instances = db.execute(
            "select task_id, try_number, state from task_instance where dag_id = ? and run_id = ?", (dag_id, run_id)
        ).fetchall()
    for task_id, key, value in xcoms:
        text = value if isinstance(value, str) else bytes(value).decode()
        assert len(text) < 1000 and "example.com" not in text and TOKEN not in text, (task_id, key, text)
    returned = {task_id: json.loads(v) for task_id, key, v in xcoms if key == "return_value"}
    return returned, {t: n for t, n, _ in instances}, {t: state for t, _, state in instances}


def check_pool(client, pool_id: str, images: set[str]) -> None:
    """The pool was labeled to the end (closed COMPLETED) and holds each image's task once."""
    pool = client.get_pool(pool_id)
    tasks = list(client.iter_tasks(pool_id))
    assert (pool.status, pool.last_close_reason) == ("CLOSED", "COMPLETED")
    assert len(tasks) == len(images)
    assert {task["input_values"]["image"] for task in tasks} == images


def check_labels(emulator: TolokaEmulator, pool_id: str, path: str, n_tasks: int) -> float:
    """Every task of the pool has one aggregated answer in the file; returns their accuracy against the ground truth."""
    import httpx

    rows = [json.loads(line) for line in Path(path.removeprefix("file://")).read_text().splitlines()]
    truth = httpx.get(f"{emulator.url}/_emulator/ground-truth", params={"pool_id": pool_id}).json()
    assert len(rows) == n_tasks and {row["task_id"] for row in rows} == set(truth)
    assert all(row["output_values"]["result"] for row in rows), rows[:3]
    return sum(row["output_values"] == truth[row["task_id"]] for row in rows) / len(rows)


@pytest.fixture(scope="module")
def system_emulator() -> Any:
    with TolokaEmulator(token=TOKEN, operation_delay=0.5, simulate_tolokers=True, seed=7) as running:
        yield running


def quickstart_images(n: int) -> set[str]:
    return {f"https://example.com/shoes/image_{i}.jpg" for i in range(n)}


def test_quickstart_dag_runs_end_to_end(airflow_home, system_emulator, make_client):
    output = run_dag(airflow_home, system_emulator.url, "toloka_shoes_quickstart", "-c", '{"n_tasks": 40}')
    assert "Pausing task as DEFERRED" in output  # the sensor waited in the (inline) triggerer
    returned, _ = run_state(airflow_home, "toloka_shoes_quickstart")
    client = make_client(system_emulator.url, TOKEN)
    pool_id = returned["create_pool"]
    assert returned["open_pool"] == pool_id and client.get_pool(pool_id).project_id == returned["create_project"]
    assert returned["wait_for_upload"]["success_count"] == 40
    assert isinstance(returned["upload_tasks"], list) and len(returned["upload_tasks"]) == 1
    check_pool(client, pool_id, quickstart_images(40))
    assert {task["overlap"] for task in client.iter_tasks(pool_id)} == {3}
    assert returned["aggregate"]["tasks"] == returned["aggregate"]["answered"] == 40
    # majority vote of 3 tolokers right 80% of the time on average: about 90% right
    assert check_labels(system_emulator, pool_id, returned["aggregate"]["path"], 40) >= 0.7


def test_daily_batch_dag_makes_a_pool_for_the_day(airflow_home, system_emulator, make_client, shoes_project, tmp_path):
    client = make_client(system_emulator.url, TOKEN)
    project_id = client.create_project(shoes_project).id
    images = {f"https://example.com/daily/{i}.jpg" for i in range(30)}
    (tmp_path / "2026-11-20.jsonl").write_text("".join(json.dumps({"image": i}) + "\n" for i in sorted(images)))
    conf = json.dumps({"project_id": project_id, "data_dir": str(tmp_path), "overlap": 2})
    run_dag(airflow_home, system_emulator.url, "toloka_daily_batch", "2026-11-20", "-c", conf)
    returned, _ = run_state(airflow_home, "toloka_daily_batch")
    pool = client.get_pool(returned["create_pool"])
    assert (pool.project_id, pool.private_name) == (project_id, "Daily batch 2026-11-20")
    check_pool(client, pool.id, images)
    review = returned["review"]
    assert review["accepted"] + review["rejected"] == len(list(client.iter_assignments(pool.id))) > 0, review
    assert returned["aggregate"]["path"] == f"{tmp_path}/results/2026-11-20.jsonl"
    assert check_labels(system_emulator, pool.id, returned["aggregate"]["path"], 30) >= 0.6


def test_quickstart_under_faults_is_retried_by_airflow_and_creates_each_task_once(airflow_home, make_client):
    # max_attempts=1: the client does not retry, so an injected fault fails the Airflow task and
    # Airflow retries it; the retry must reuse the project, the pool and the uploaded batches.
    with TolokaEmulator(token=TOKEN, operation_delay=0.5, fail_rate=0.1, seed=3, simulate_tolokers=True) as faulty:
        conf = '{"n_tasks": 1500, "batch_size": 150}'
        run_dag(airflow_home, faulty.url, "toloka_shoes_quickstart", "-c", conf, max_attempts=1)
        returned, tries = run_state(airflow_home, "toloka_shoes_quickstart")
        assert max(tries.values()) > 1, tries  # some step really failed and was retried
        client = make_client(faulty.url, TOKEN, max_attempts=10)
        check_pool(client, returned["create_pool"], quickstart_images(1500))
        assert returned["aggregate"]["answered"] == 1500
        assert len(list(client.iter_projects())) == 1
        assert len(list(client.iter_pools())) == 1


def test_a_bad_tasks_file_fails_in_one_try_despite_retries(airflow_home, system_emulator, make_client, tmp_path):
    """The example DAGs have retries=3; an invalid task cannot be fixed by retrying, so one try fails the task."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"image": "https://example.com/ok.jpg"}\n{"image": "https://example.com/x.jpg", "colour": 1}\n')
    conf = json.dumps({"tasks_file": str(path)})
    output = run_dag(airflow_home, system_emulator.url, "toloka_shoes_quickstart", "-c", conf, expect="failed")
    assert "input_values.colour" in output and f"{path}[1]" in output
    returned, tries, states = run_details(airflow_home, "toloka_shoes_quickstart")
    assert states["upload_tasks"] == "failed" and tries["upload_tasks"] == 1, (states, tries)
    assert list(make_client(system_emulator.url, TOKEN).iter_tasks(returned["create_pool"])) == []


def test_an_upload_waiting_deferrably_resumes_under_dags_test(airflow_home, make_client, shoes_project, shoes_pool):
    """``wait_for_completion=True, deferrable=True`` resumes from the trigger's event alone (no defer kwargs)."""
    with TolokaEmulator(token=TOKEN, operation_delay=2) as slow:
        client = make_client(slow.url, TOKEN)
        pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
        env = {**airflow_home, "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).parent / "dags")}
        output = run_dag(env, slow.url, "toloka_upload_and_wait", "-c", json.dumps({"pool_id": pool_id}))
        assert output.count("Pausing task as DEFERRED") == 2  # the upload's wait and POOL.OPEN
        returned, tries, _ = run_details(airflow_home, "toloka_upload_and_wait")
        assert tries == {"upload": 1, "open": 1} and returned["open"] == pool_id
        assert len(list(client.iter_tasks(pool_id))) == 20 and client.get_pool(pool_id).status == "OPEN"


def test_a_sensor_timeout_fails_for_good_deferred_or_poking(airflow_home, make_client, shoes_project, shoes_pool):
    """At its timeout a sensor fails without Airflow's retries, whichever way it waits."""
    with TolokaEmulator(token=TOKEN, operation_delay=600) as slow:
        client = make_client(slow.url, TOKEN)
        pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
        (operation_id,) = client.create_tasks([{"image": "https://example.com/t.jpg"}], pool_id).operation_ids
        env = {**airflow_home, "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).parent / "dags")}
        conf = json.dumps({"operation_id": operation_id})
        output = run_dag(env, slow.url, "toloka_sensor_timeout", "-c", conf, expect="failed")
        _, tries, states = run_details(airflow_home, "toloka_sensor_timeout")
        assert states == {"wait_deferred": "failed", "wait_poking": "failed"}, (states, output[-3000:])
        assert tries == {"wait_deferred": 1, "wait_poking": 1}  # retries=2, yet one try each
        assert "still running at the timeout" in output
