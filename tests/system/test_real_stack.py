"""The example DAGs on a real Airflow stack: api-server, scheduler, dag-processor, triggerer, LocalExecutor.

Runs are started the way users start them (REST with and without a logical date, ``airflow dags
trigger``, the scheduler, a backfill), all at once so they run concurrently, and their task
instances' states are sampled over time: a sensor must be seen ``deferred`` and then succeed, which
``airflow dags test`` (triggers run inline) cannot show. The triggerer is killed with SIGKILL while
a sensor is deferred and started again. Afterwards the emulator must hold every run's tasks once.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from airflow_context import connection_json

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig
from airflow_provider_toloka.testing import EmulatorProcess
from airflow_provider_toloka.testing.stack import AirflowStack, RunOutcome, StateRecorder

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "dags_examples"
TOKEN = "real-stack-key-3b9d"
#: Long enough that a sensor's first poke finds its operation still running, so it defers (on a loaded
#: machine the sensor started more than 10 s after the upload in 1 of 3 runs).
OPERATION_DELAY = 20.0
#: Seconds a run may take (most wait behind others: the daily DAG runs one at a time).
RUN_TIMEOUT = 480.0
QUICKSTART, DAILY = "toloka_shoes_quickstart", "toloka_daily_batch"
#: Runs on each daily results file (the Asset toloka_daily_labels).
REPORT = "toloka_daily_labels_report"
#: A copy of the daily DAG that the scheduler runs every minute (the original is @daily, catchup=False).
EVERY_MINUTE = "toloka_daily_batch_every_minute"
#: A copy of the daily DAG under another id, backfilled while the original runs its triggered runs
#: (the DAG has max_active_runs=1, so its own runs go one after the other).
BACKFILLED = "toloka_daily_batch_backfilled"
SENSOR = "wait_for_upload"
TODAY = datetime.now(timezone.utc).date()
#: Days (offsets from today) that have a tasks file; each file has a different number of tasks.
DAY_FILES = {-9: 4, -8: 5, -7: 6, -3: 7, -2: 8, -1: 9, 0: 10, 1: 11}
LOGICAL_DATE = {QUICKSTART: datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), DAILY: TODAY - timedelta(days=9)}
BACKFILL_DAYS = (TODAY - timedelta(days=3), TODAY - timedelta(days=2))


def day_file_size(day: date) -> int:
    return DAY_FILES[(day - TODAY).days]


@dataclass
class Launch:
    """A run started by the module: where it comes from and what it must upload."""

    dag_id: str
    run_id: str
    n_tasks: int


@dataclass
class TriggererKill:
    """What happened when the triggerer was killed: the sensor's state then, the old and new pids."""

    sensor_state: str | None = None
    old_pid: int | None = None
    new_pid: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected {old!r} once in the daily DAG"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The daily DAG's files: ``<day>.jsonl`` with ``DAY_FILES[offset]`` tasks each, unique per day."""
    folder = tmp_path_factory.mktemp("daily-data")
    for offset, count in DAY_FILES.items():
        day = (TODAY + timedelta(days=offset)).isoformat()
        rows = (json.dumps({"image": f"https://example.com/{day}/{i}.jpg"}) for i in range(count))
        (folder / f"{day}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def dags_folder(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """The example DAGs as they are, plus the daily DAG with a per-minute schedule and this module's data."""
    folder = tmp_path_factory.mktemp("dags") / "dags"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    daily = (EXAMPLES / "toloka_daily_batch.py").read_text(encoding="utf-8")
    every_minute = replace_once(daily, f'dag_id="{DAILY}"', f'dag_id="{EVERY_MINUTE}"')
    every_minute = replace_once(every_minute, 'schedule="@daily"', 'schedule="* * * * *"')
    every_minute = replace_once(every_minute, 'Param("/data/toloka"', f'Param("{data_dir}"')
    (folder / f"{EVERY_MINUTE}.py").write_text(every_minute, encoding="utf-8")
    backfilled = replace_once(daily, f'dag_id="{DAILY}"', f'dag_id="{BACKFILLED}"')
    (folder / f"{BACKFILLED}.py").write_text(backfilled, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def emulator() -> EmulatorProcess:
    with EmulatorProcess(token=TOKEN, operation_delay=OPERATION_DELAY, simulate_tolokers=True, seed=5) as process:
        yield process


@pytest.fixture(scope="module")
def toloka(emulator: EmulatorProcess) -> TolokaClient:
    client = TolokaClient(ClientConfig(token=TOKEN, base_url=emulator.url))
    yield client
    client.close()


@pytest.fixture(scope="module")
def stack(dags_folder: Path, emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> AirflowStack:
    staging = tmp_path_factory.mktemp("staging")
    env = {
        "AIRFLOW_CONN_TOLOKA_DEFAULT": connection_json(emulator.url, TOKEN, backoff_base=0.01),
        "AIRFLOW_VAR_TOLOKA_STAGING_URL": f"file://{staging}",
    }
    started = time.monotonic()
    with AirflowStack(dags_folder, tmp_path_factory.mktemp("airflow-home"), env=env) as running:
        print(f"Airflow stack healthy with its DAGs parsed in {time.monotonic() - started:.1f}s")
        yield running


@pytest.fixture(scope="module")
def recorder(stack: AirflowStack) -> StateRecorder:
    with StateRecorder(stack, interval=0.5) as watching:
        yield watching


def trigger_with_cli(stack: AirflowStack, dag_id: str, conf: dict[str, Any]) -> dict[str, Any]:
    """``airflow dags trigger DAG -c CONF`` as the README shows it; returns the run it printed."""
    done = stack.cli("dags", "trigger", dag_id, "-c", json.dumps(conf), "-o", "json", timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    printed = [line for line in done.stdout.splitlines() if line.startswith("[{")]
    assert printed, done.stdout[-3000:]
    return json.loads(printed[-1])[0]


def kill_triggerer_while_deferred(stack: AirflowStack, recorder: StateRecorder, launch: Launch, kill: TriggererKill):
    """SIGKILL the triggerer once ``launch``'s sensor is deferred, then start a new one."""
    try:
        deferred = recorder.wait_until(
            lambda rec: rec.task_state(launch.dag_id, launch.run_id, SENSOR) == "deferred", RUN_TIMEOUT
        )
        kill.old_pid = stack.processes["triggerer"].pid
        stack.stop_component("triggerer", kill=True)
        kill.sensor_state = stack.task_states(launch.dag_id, launch.run_id).get(SENSOR)
        if not deferred:
            kill.error = "the sensor was never seen deferred"
        kill.new_pid = stack.start_component("triggerer").pid
    except Exception as exc:  # reported by the test that checks it
        kill.error = repr(exc)
    finally:
        kill.done.set()


def post_backfill(stack: AirflowStack, body: dict[str, Any], attempts: int = 6) -> dict[str, Any]:
    """POST a backfill; an answer 500 from a locked SQLite database is posted again (a few times, 1 s apart)."""
    for attempt in range(1, attempts + 1):
        try:
            return stack.rest("POST", "/backfills", json=body)
        except RuntimeError as exc:
            if "-> 500" not in str(exc) or attempt == attempts:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def launched(stack: AirflowStack, recorder: StateRecorder, toloka: TolokaClient, data_dir: Path):
    """Every run of the module, started at once; the triggerer is killed while one run's sensor waits."""
    project = toloka.create_project(json.loads((EXAMPLES / "toloka_shoes" / "project.json").read_text()))
    stack.rest("POST", "/variables", json={"key": "toloka_project_id", "value": str(project.id)})
    daily_conf = {"data_dir": str(data_dir)}
    launches: dict[str, Launch] = {}

    def rest(name: str, dag_id: str, n_tasks: int, conf: dict[str, Any], logical_date: Any = None) -> None:
        run = stack.trigger(dag_id, conf=conf, logical_date=logical_date)
        launches[name] = Launch(dag_id, run["dag_run_id"], n_tasks)

    # The backfill first, before the scheduler is busy with the other runs: Airflow 3.1.0 creates its runs
    # in SAVEPOINTs that read, then write; on SQLite another process's commit in between fails it at once
    # ("database is locked", no busy wait, answered 500 with nothing created), so it is posted again.
    backfill = post_backfill(
        stack,
        {
            "dag_id": BACKFILLED,
            "from_date": f"{BACKFILL_DAYS[0].isoformat()}T00:00:00Z",
            "to_date": f"{BACKFILL_DAYS[-1].isoformat()}T00:00:00Z",
            "dag_run_conf": daily_conf,
            "max_active_runs": 1,
        },
    )
    rest("triggerer_kill", QUICKSTART, 12, {"n_tasks": 12})
    kill = TriggererKill()
    threading.Thread(
        target=kill_triggerer_while_deferred, args=(stack, recorder, launches["triggerer_kill"], kill), daemon=True
    ).start()
    rest("quickstart_rest_no_date", QUICKSTART, 7, {"n_tasks": 7})
    rest("quickstart_rest_with_date", QUICKSTART, 8, {"n_tasks": 8}, LOGICAL_DATE[QUICKSTART])
    rest("daily_rest_no_date", DAILY, day_file_size(TODAY), daily_conf)
    with_date = LOGICAL_DATE[DAILY]
    rest(
        "daily_rest_with_date",
        DAILY,
        day_file_size(with_date),
        {**daily_conf, "project_id": str(project.id)},
        datetime(with_date.year, with_date.month, with_date.day, tzinfo=timezone.utc),
    )
    for name, dag_id, n_tasks, conf in [
        ("quickstart_cli", QUICKSTART, 9, {"n_tasks": 9}),
        ("daily_cli", DAILY, day_file_size(TODAY), daily_conf),
    ]:
        launches[name] = Launch(dag_id, trigger_with_cli(stack, dag_id, conf)["dag_run_id"], n_tasks)
    return {"runs": launches, "kill": kill, "backfill": backfill, "project_id": str(project.id)}


def assert_sensor_deferred_then_succeeded(outcome: RunOutcome) -> None:
    states = outcome.seen(SENSOR)
    assert "deferred" in states, f"{SENSOR} never seen deferred: {states}"
    assert states[-1] == "success" and states.index("deferred") < len(states) - 1, states


def assert_run_succeeded(stack: AirflowStack, outcome: RunOutcome, launch: Launch) -> None:
    final = outcome.history[-1].states if outcome.history else {}
    assert outcome.state == "success", f"{launch.run_id}: {outcome.state} {final}\n{failure_logs(stack, launch)}"
    assert final and set(final.values()) == {"success"}, final
    retried = {task for sample in outcome.history for task, state in sample.states.items() if state == "up_for_retry"}
    assert not retried, f"{launch.run_id}: retried {retried}\n{failure_logs(stack, launch)}"
    assert_sensor_deferred_then_succeeded(outcome)


def failure_logs(stack: AirflowStack, launch: Launch) -> str:
    """Log excerpts of the run's failed tasks (for the assertion message)."""
    excerpts = []
    for task_id, state in stack.task_states(launch.dag_id, launch.run_id).items():
        if state in ("failed", "up_for_retry", "upstream_failed"):
            try:
                answer = stack.rest(
                    "GET", f"/dags/{launch.dag_id}/dagRuns/{launch.run_id}/taskInstances/{task_id}/logs/1"
                )
                text = json.dumps(answer)[-2500:]
            except RuntimeError as exc:
                text = str(exc)
            excerpts.append(f"--- {task_id} ({state}): {text}")
    return "\n".join(excerpts)


def test_the_example_dags_are_parsed_without_errors(stack: AirflowStack):
    dags = {dag["dag_id"]: dag for dag in stack.rest("GET", "/dags")["dags"]}
    assert {QUICKSTART, DAILY, EVERY_MINUTE, BACKFILLED} <= set(dags)
    assert stack.rest("GET", "/importErrors")["import_errors"] == []
    assert not dags[QUICKSTART]["is_paused"] and not dags[DAILY]["is_paused"]


@pytest.mark.parametrize(
    "name",
    [
        "quickstart_rest_no_date",
        "quickstart_rest_with_date",
        "quickstart_cli",
        "daily_rest_no_date",
        "daily_rest_with_date",
        "daily_cli",
    ],
)
def test_triggered_runs_defer_their_sensor_and_succeed(stack, recorder, launched, name: str):
    launch = launched["runs"][name]
    outcome = recorder.outcome(launch.dag_id, launch.run_id, RUN_TIMEOUT)
    assert_run_succeeded(stack, outcome, launch)
    run = stack.rest("GET", f"/dags/{launch.dag_id}/dagRuns/{launch.run_id}")
    assert run["run_type"] == "manual"
    if name.endswith("with_date"):
        expected = LOGICAL_DATE[launch.dag_id]
        assert run["logical_date"][:10] == expected.isoformat()[:10]
    else:
        assert run["logical_date"] is None, run


def test_the_scheduler_runs_the_daily_dag_on_its_schedule(stack, recorder, launched):
    def scheduled_run(rec: StateRecorder) -> Any:
        return next(
            (key for key, state in rec.run_states.items() if key[0] == EVERY_MINUTE and state == "success"), None
        )

    assert recorder.wait_until(scheduled_run, RUN_TIMEOUT), {
        key: state for key, state in recorder.run_states.items() if key[0] == EVERY_MINUTE
    }
    dag_id, run_id = scheduled_run(recorder)
    stack.rest("PATCH", f"/dags/{EVERY_MINUTE}", json={"is_paused": True})
    run = stack.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
    assert run["run_type"] == "scheduled" and run["logical_date"] is not None
    launched["runs"]["scheduled"] = Launch(dag_id, run_id, day_file_size(date.fromisoformat(run["logical_date"][:10])))
    assert_run_succeeded(stack, recorder.outcome(dag_id, run_id, 1), launched["runs"]["scheduled"])


def test_a_backfill_of_the_daily_dag_runs_each_day(stack, recorder, launched):
    backfill_id = launched["backfill"]["id"]
    runs = stack.rest("GET", f"/dags/{BACKFILLED}/dagRuns", params={"run_type": "backfill"})["dag_runs"]
    runs = [run for run in runs if run.get("backfill_id") in (None, backfill_id)]
    assert sorted(run["logical_date"][:10] for run in runs) == [day.isoformat() for day in BACKFILL_DAYS]
    for run in runs:
        day = date.fromisoformat(run["logical_date"][:10])
        launch = Launch(BACKFILLED, run["dag_run_id"], day_file_size(day))
        launched["runs"][f"backfill_{day}"] = launch
        assert_run_succeeded(stack, recorder.outcome(BACKFILLED, run["dag_run_id"], RUN_TIMEOUT), launch)


def test_a_sensor_survives_its_triggerer_being_killed(stack, recorder, launched):
    kill: TriggererKill = launched["kill"]
    launch = launched["runs"]["triggerer_kill"]
    assert kill.done.wait(RUN_TIMEOUT)
    assert kill.error is None, kill.error
    assert kill.sensor_state == "deferred"
    assert kill.new_pid and kill.new_pid != kill.old_pid
    assert_run_succeeded(stack, recorder.outcome(launch.dag_id, launch.run_id, RUN_TIMEOUT), launch)


def test_fresh_labels_run_the_report_dag_on_the_asset(stack, recorder, launched):
    """Each daily run's aggregate publishes the Asset toloka_daily_labels; the report DAG runs on its events."""

    def report_run(rec: StateRecorder) -> Any:
        return next((key for key, state in rec.run_states.items() if key[0] == REPORT and state == "success"), None)

    assert recorder.wait_until(report_run, RUN_TIMEOUT), {
        k: s for k, s in recorder.run_states.items() if k[0] == REPORT
    }
    _, run_id = report_run(recorder)
    assert stack.rest("GET", f"/dags/{REPORT}/dagRuns/{run_id}")["run_type"] == "asset_triggered"
    entry = stack.rest(
        "GET", f"/dags/{REPORT}/dagRuns/{run_id}/taskInstances/summarize_labels/xcomEntries/return_value"
    )
    summaries = entry["value"] if isinstance(entry["value"], list) else json.loads(entry["value"])
    for summary in summaries:
        assert summary["path"].endswith(".jsonl") and Path(summary["path"]).is_file(), summary
        assert summary["tasks"] == sum(summary["answers"].values()) > 0, summary


def test_every_run_uploaded_its_tasks_exactly_once_and_was_labeled(stack, recorder, launched, toloka: TolokaClient):
    print(f"State samples: {recorder.samples}, {recorder.sample_seconds / max(1, recorder.samples):.2f}s each")
    pools: dict[str, Launch] = {}
    for launch in launched["runs"].values():
        assert recorder.outcome(launch.dag_id, launch.run_id, RUN_TIMEOUT).state == "success"
        entry = stack.rest(
            "GET", f"/dags/{launch.dag_id}/dagRuns/{launch.run_id}/taskInstances/create_pool/xcomEntries/return_value"
        )
        pools[str(entry["value"]).strip('"')] = launch
    assert len(pools) == len(launched["runs"]), "two runs share a pool"
    for pool_id, launch in pools.items():
        inputs = [json.dumps(task["input_values"], sort_keys=True) for task in toloka.iter_tasks(pool_id)]
        duplicates = [value for value, count in Counter(inputs).items() if count > 1]
        assert not duplicates, f"pool {pool_id} of {launch.run_id}: uploaded twice: {duplicates[:3]}"
        assert len(inputs) == launch.n_tasks, f"pool {pool_id} of {launch.run_id}"
        pool = toloka.get_pool(pool_id)
        assert (pool.status, pool.last_close_reason) == ("CLOSED", "COMPLETED"), f"pool {pool_id} of {launch.run_id}"
