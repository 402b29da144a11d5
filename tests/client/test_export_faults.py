"""Exporting a pool's assignments while the API fails: every assignment lands in the file exactly once.

The emulator runs with ``fail_rate`` 0.2 and a fixed seed: a fifth of the requests answer 500 or
503 or are processed and then dropped unanswered. The pool and its assignments are put in the
emulator's state directly (no request, so the faults all fall on the export and the seed makes
them repeatable); the file is then compared with that state, id by id. Pages are small so that
the export makes a hundred requests and meets every kind of fault.
"""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow_context import make_context
from quickstart import SHOES_PROJECT

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.writers import RowWriter, flatten
from airflow_provider_toloka.testing import TolokaEmulator
from airflow_provider_toloka.testing.faults import FAULT_KINDS

#: Statuses of the seeded assignments, in turn (every status the export meets in a real pool).
SEEDED_STATUSES = ("SUBMITTED", "ACCEPTED", "SUBMITTED", "REJECTED", "ACCEPTED", "EXPIRED", "ACTIVE", "SKIPPED")
ASSIGNMENTS = 320
PAGE_SIZE = 3
LABELS = ("boots", "sneakers", "other")

pytestmark = [
    pytest.mark.toloka_emulator(fail_rate=0.2, seed=12, rps=None),
    pytest.mark.toloka_connection(backoff_base=0.001, max_attempts=12),
]


def seed_pool(emulator: TolokaEmulator, assignments: int = ASSIGNMENTS) -> str:
    """A pool with ``assignments`` assignments of every status, made in the emulator's state (no request)."""
    state = emulator.state
    project_id = state.create_project(copy.deepcopy(SHOES_PROJECT))["id"]
    pool_id = str(state.create_pool(pool_body(project_id))["id"])
    tasks = [
        state.create_task({"pool_id": pool_id, "input_values": {"image": f"https://example.com/{n}.jpg"}, "overlap": 3})
        for n in range(assignments)
    ]
    for number in range(assignments):
        status = SEEDED_STATUSES[number % len(SEEDED_STATUSES)]
        suite = [tasks[number], tasks[(number + 1) % assignments]]
        answered = status not in ("ACTIVE", "EXPIRED", "SKIPPED")
        solutions = [{"output_values": {"result": LABELS[(number + i) % 3]}} for i in range(2)] if answered else None
        state.add_assignment(pool_id, suite, solutions, status=status, user_id=f"toloker-{number % 17}")
    return pool_id


def pool_body(project_id: str) -> dict[str, Any]:
    """A closed pool of the shoes project (it never closes or changes by itself while exported)."""
    return {
        "project_id": project_id,
        "private_name": "export under faults",
        "may_contain_adult_content": False,
        "reward_per_assignment": 0.02,
        "assignment_max_duration_seconds": 600,
        "will_expire": "2099-01-01T00:00:00",
        "defaults": {"default_overlap_for_new_task_suites": 3},
    }


def stored(emulator: TolokaEmulator, pool_id: str) -> list[dict[str, Any]]:
    """The pool's assignments as the emulator holds them, as JSON (what the API serves)."""
    with emulator.state.lock:
        return json.loads(json.dumps(emulator.state.labeling.book.of_pool(pool_id)))


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a .jsonl or .csv file."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_faults_met(emulator: TolokaEmulator, at_least: int = 1) -> None:
    """Every kind of fault (500, 503, processed-then-dropped) hit the export at least ``at_least`` times."""
    counts = emulator.fault_counts
    assert all(counts[kind] >= at_least for kind in FAULT_KINDS), dict(counts)


@pytest.fixture
def faulty_client(toloka_emulator: TolokaEmulator, make_client: Callable[..., TolokaClient]) -> TolokaClient:
    """A client of the failing emulator, retrying quickly and often enough for a 20 % fail rate."""
    return make_client(toloka_emulator.url, max_attempts=12, backoff_base=0.001, backoff_max=0.01)


@pytest.mark.parametrize("extension", [".jsonl", ".csv"])
def test_the_client_export_writes_each_assignment_once_as_the_api_holds_it(
    toloka_emulator: TolokaEmulator, faulty_client: TolokaClient, tmp_path: Path, extension: str
) -> None:
    pool_id = seed_pool(toloka_emulator)
    expected = stored(toloka_emulator, pool_id)
    columns = list(dict.fromkeys(name for assignment in expected for name in flatten(assignment)))
    path = tmp_path / f"assignments{extension}"

    with RowWriter(path, columns) as writer:
        written = writer.write_all(faulty_client.iter_assignments(pool_id, page_size=PAGE_SIZE))

    assert_faults_met(toloka_emulator)
    rows = read_rows(path)
    ids = [row["id"] for row in rows]
    assert written == len(rows) == len(expected) == ASSIGNMENTS
    assert len(set(ids)) == len(ids), "an assignment was written twice"
    assert ids == [assignment["id"] for assignment in expected], "lost, repeated or out of id order"
    if extension == ".jsonl":
        assert rows == expected
    else:
        assert [row["status"] for row in rows] == [assignment["status"] for assignment in expected]
        assert [json.loads(row["solutions"]) for row in rows] == [a["solutions"] for a in expected]


def test_a_status_filtered_export_under_faults_is_exactly_the_matching_assignments(
    toloka_emulator: TolokaEmulator, faulty_client: TolokaClient, tmp_path: Path
) -> None:
    pool_id = seed_pool(toloka_emulator)
    wanted = {"SUBMITTED", "ACCEPTED"}
    expected = [a["id"] for a in stored(toloka_emulator, pool_id) if a["status"] in wanted]
    path = tmp_path / "answered.jsonl"

    with RowWriter(path) as writer:
        writer.write_all(faulty_client.iter_assignments(pool_id, sorted(wanted), page_size=PAGE_SIZE))

    assert_faults_met(toloka_emulator)
    assert [row["id"] for row in read_rows(path)] == expected
    assert len(expected) == ASSIGNMENTS * 4 // len(SEEDED_STATUSES)


@pytest.mark.parametrize("extension", [".jsonl", ".csv"])
def test_the_get_assignments_operator_writes_each_task_answer_once(
    toloka_connection: Any, tmp_path: Path, extension: str
) -> None:
    from airflow_provider_toloka.operators.results import TolokaGetAssignmentsOperator

    emulator = toloka_connection.emulator
    pool_id = seed_pool(emulator)
    expected = stored(emulator, pool_id)
    path = tmp_path / f"assignments{extension}"

    result = TolokaGetAssignmentsOperator(
        task_id="export", pool_id=pool_id, output_path=str(path), page_size=PAGE_SIZE
    ).execute(make_context())

    assert_faults_met(emulator)
    rows = read_rows(path)
    pairs = [(row["assignment_id"], row["task_id"]) for row in rows]
    assert pairs == [(a["id"], task["id"]) for a in expected for task in a["tasks"]]
    assert len(set(pairs)) == len(pairs) == 2 * ASSIGNMENTS
    assert (result["assignments"], result["rows"]) == (ASSIGNMENTS, 2 * ASSIGNMENTS)
    assert sum(result["by_status"].values()) == ASSIGNMENTS


def test_a_retried_export_rewrites_the_file_instead_of_appending(
    toloka_connection: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A try cut off half way (an outage outlasting its retries) leaves no file; the retry writes every row once."""
    from airflow_provider_toloka.client.errors import TolokaNetworkError
    from airflow_provider_toloka.operators.results import TolokaGetAssignmentsOperator

    emulator = toloka_connection.emulator
    pool_id = seed_pool(emulator)
    expected = [(a["id"], task["id"]) for a in stored(emulator, pool_id) for task in a["tasks"]]
    path = tmp_path / "assignments.jsonl"
    cut_at = len(expected) // 2
    write = RowWriter.write

    written = []

    def write_then_cut_off(writer: RowWriter, row: dict[str, Any]) -> None:
        write(writer, row)
        written.append(row)
        if writer.rows == cut_at:
            emulator.outage(120)  # every request from now on is dropped, retries included

    def export() -> dict[str, Any]:
        operator = TolokaGetAssignmentsOperator(
            task_id="export", pool_id=pool_id, output_path=str(path), page_size=PAGE_SIZE
        )
        return operator.execute(make_context())

    monkeypatch.setattr(RowWriter, "write", write_then_cut_off)
    with pytest.raises(TolokaNetworkError):
        export()
    assert cut_at <= len(written) < len(expected)
    assert list(tmp_path.iterdir()) == [], "a cut-off export left a file behind"

    monkeypatch.setattr(RowWriter, "write", write)
    emulator.outage(0)
    result = export()
    assert_faults_met(emulator)
    assert [(row["assignment_id"], row["task_id"]) for row in read_rows(path)] == expected
    assert result["rows"] == len(expected)
