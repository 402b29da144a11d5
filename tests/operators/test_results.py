"""The results operators against the emulator over HTTP: review, export, aggregate, close; files and Asset events."""

from __future__ import annotations

import csv
import json

import pytest
from airflow_context import make_context
from crowd_seed import add_answers, make_tasks, open_with_a_task

from airflow_provider_toloka.client.errors import TolokaConfigError, TolokaValidationError
from airflow_provider_toloka.operators.results import (
    TolokaAggregateOperator,
    TolokaClosePoolOperator,
    TolokaGetAssignmentsOperator,
    TolokaReviewAssignmentsOperator,
)

#: Answers of four tolokers to tasks 0-3 (task 4 is a control task whose known answer is "boots").
ANSWERS = {
    "good1": ["boots", "sneakers", "other", "boots", "boots"],
    "good2": ["boots", "sneakers", "other", "sneakers", "boots"],
    "good3": ["boots", "other", "other", "sneakers", "boots"],
    "odd": ["other", "boots", "sneakers", "other", "sneakers"],
}


@pytest.fixture
def labeled_pool(emulator, client, pool_id):
    """A pool of 5 tasks (the last a control task), each answered by the four tolokers of ANSWERS."""
    tasks = make_tasks(client, pool_id, 5, control={4: "boots"})
    ids = {user: add_answers(emulator, pool_id, user, tasks, labels)["id"] for user, labels in ANSWERS.items()}
    return pool_id, tasks, ids


def _outlet_context(asset):
    from airflow.sdk.execution_time.context import OutletEventAccessors

    context = make_context()
    context["outlet_events"] = OutletEventAccessors()
    return context


def _spent(accepted: int, reward: float) -> dict:
    """The ``spent`` summary of ``accepted`` assignments paid ``reward`` in all, at the default fee rate 0.3."""
    fee = round(reward * 0.3, 6)
    return {
        "accepted_assignments": accepted,
        "reward": reward,
        "fee_rate": 0.3,
        "fee": fee,
        "total": round(reward + fee, 6),
        "complete": True,
    }


def _jsonl(path) -> list[dict]:
    return [json.loads(line) for line in open(path).read().splitlines()]


# --- review -----------------------------------------------------------------------------------


def test_accept_all_accepts_every_submitted_assignment_and_a_rerun_finds_nothing(toloka_conn, client, labeled_pool):
    pool_id, _, ids = labeled_pool
    operator = TolokaReviewAssignmentsOperator(task_id="review", pool_id=pool_id, accept_comment="Thanks")
    counts = operator.execute(make_context(task_id="review"))
    spent = _spent(4, 0.08)  # what the four accepted assignments cost: reward plus 30 % fee
    assert counts == {
        "pool_id": pool_id,
        "accepted": 4,
        "rejected": 0,
        "already_reviewed": 0,
        "left": 0,
        "spent": spent,
    }
    assert {client.get_assignment(i)["status"] for i in ids.values()} == {"ACCEPTED"}
    assert client.get_assignment(ids["odd"])["public_comment"] == "Thanks"
    again = TolokaReviewAssignmentsOperator(task_id="review", pool_id=pool_id).execute(make_context(task_id="review"))
    assert again["accepted"] == again["rejected"] == 0


def test_control_accuracy_rejects_the_toloker_who_missed_the_control_task(toloka_conn, client, labeled_pool):
    pool_id, _, ids = labeled_pool
    operator = TolokaReviewAssignmentsOperator(
        task_id="review", pool_id=pool_id, policy="control_accuracy", reject_comment="Control task failed"
    )
    counts = operator.execute(make_context())
    assert (counts["accepted"], counts["rejected"]) == (3, 1)
    odd = client.get_assignment(ids["odd"])
    assert (odd["status"], odd["public_comment"]) == ("REJECTED", "Control task failed")


def test_majority_rejects_answers_that_disagree_with_enough_others(toloka_conn, client, labeled_pool):
    pool_id, _, ids = labeled_pool
    operator = TolokaReviewAssignmentsOperator(
        task_id="review", pool_id=pool_id, policy="majority", min_agreement=2, min_accuracy=0.5
    )
    counts = operator.execute(make_context())
    assert (counts["accepted"], counts["rejected"]) == (3, 1)
    assert client.get_assignment(ids["odd"])["status"] == "REJECTED"
    assert client.get_assignment(ids["good3"])["status"] == "ACCEPTED"


def test_a_callable_policy_and_assignments_reviewed_meanwhile_count_as_done(toloka_conn, client, labeled_pool):
    pool_id, _, ids = labeled_pool

    def policy(assignment):
        if assignment["user_id"] == "good1":
            client.accept_assignment(assignment["id"])  # a person reviews it first: the operator then gets 409
            return True
        if assignment["user_id"] == "odd":
            return False, "Please read the instructions"
        return None  # left for a person

    counts = TolokaReviewAssignmentsOperator(task_id="review", pool_id=pool_id, policy=policy).execute(make_context())
    assert counts == {
        "pool_id": pool_id,
        "accepted": 0,
        "rejected": 1,
        "already_reviewed": 1,
        "left": 2,
        "spent": _spent(0, 0.0),  # accepted by a person meanwhile: not by this task
    }
    odd = client.get_assignment(ids["odd"])
    assert (odd["status"], odd["public_comment"]) == ("REJECTED", "Please read the instructions")
    assert client.get_assignment(ids["good2"])["status"] == "SUBMITTED"


def test_review_of_a_reviewed_assignment_reads_its_verdict_back(toloka_conn, client, labeled_pool):
    _, _, ids = labeled_pool
    assert client.reject_assignment(ids["odd"], "wrong").changed
    again = client.accept_assignment(ids["good1"]), client.reject_assignment(ids["odd"], "wrong")
    assert again[0].changed and not again[1].changed and again[1].status == "REJECTED"
    assert not client.reject_assignment(ids["good1"], "too late").changed  # ACCEPTED stays ACCEPTED


def test_an_unknown_policy_fails_for_good(toloka_conn, pool_id):
    from airflow.providers.common.compat.sdk import AirflowFailException

    with pytest.raises(AirflowFailException, match="Unknown review policy 'strict'"):
        TolokaReviewAssignmentsOperator(task_id="r", pool_id=pool_id, policy="strict").execute(make_context())


# --- export -----------------------------------------------------------------------------------


def test_export_streams_one_row_per_task_answer_and_returns_path_and_counts(
    toloka_conn, client, labeled_pool, tmp_path
):
    from airflow.providers.common.compat.sdk import Asset

    pool_id, tasks, ids = labeled_pool
    client.accept_assignment(ids["good1"])
    asset = Asset("toloka://results/assignments")
    context = _outlet_context(asset)
    path = tmp_path / "out" / "assignments.jsonl"
    operator = TolokaGetAssignmentsOperator(
        task_id="export", pool_id=pool_id, output_path=str(path), page_size=2, outlets=[asset]
    )
    result = operator.execute(context)
    assert result == {
        "pool_id": pool_id,
        "path": str(path),
        "assignments": 4,
        "rows": 20,
        "by_status": {"ACCEPTED": 1, "SUBMITTED": 3},
        "spent": _spent(1, 0.02),
    }
    rows = _jsonl(path)
    assert len(rows) == 20 and len({(r["assignment_id"], r["task_id"]) for r in rows}) == 20
    first = next(r for r in rows if r["user_id"] == "odd" and r["task_id"] == tasks[0]["id"])
    assert first["input_values"] == tasks[0]["input_values"] and first["output_values"] == {"result": "other"}
    assert sum(r["control"] for r in rows) == 4
    assert context["outlet_events"][asset].extra == result


def test_export_of_some_statuses_to_csv(toloka_conn, client, labeled_pool, tmp_path):
    pool_id, _, ids = labeled_pool
    client.accept_assignment(ids["good2"])
    path = tmp_path / "accepted.csv"
    result = TolokaGetAssignmentsOperator(
        task_id="export", pool_id=pool_id, output_path=str(path), status=["ACCEPTED"]
    ).execute(make_context())
    assert (result["assignments"], result["rows"]) == (1, 5)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {"assignment_id", "user_id", "status", "task_id", "input_values.image", "output_values.result"} <= set(
        rows[0]
    )
    assert [r["output_values.result"] for r in rows] == ANSWERS["good2"]


def test_export_to_object_storage_as_parquet(toloka_conn, labeled_pool, memory_storage):
    pq = pytest.importorskip("pyarrow.parquet")
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    pool_id, _, _ = labeled_pool
    url = "memory://bucket/pool/assignments.parquet"
    result = TolokaGetAssignmentsOperator(task_id="export", pool_id=pool_id, output_path=url).execute(make_context())
    assert result["path"] == url and result["rows"] == 20
    with ObjectStoragePath(url).open("rb") as handle:
        table = pq.read_table(handle)
    assert table.num_rows == 20 and "output_values.result" in table.column_names


def test_export_refuses_an_unknown_extension_and_status_before_reading(toloka_conn, pool_id):
    from airflow.providers.common.compat.sdk import AirflowFailException

    with pytest.raises(AirflowFailException, match=r"\.jsonl, \.csv or \.parquet"):
        TolokaGetAssignmentsOperator(task_id="e", pool_id=pool_id, output_path="/tmp/x.xlsx").execute(make_context())
    with pytest.raises(AirflowFailException, match="DONE"):
        TolokaGetAssignmentsOperator(
            task_id="e", pool_id=pool_id, output_path="/tmp/x.jsonl", status="SUBMITTED,DONE"
        ).execute(make_context())


# --- aggregation ------------------------------------------------------------------------------


def test_majority_vote_writes_one_answer_per_task_without_control_tasks(toloka_conn, client, labeled_pool, tmp_path):
    from airflow.providers.common.compat.sdk import Asset

    pool_id, tasks, _ = labeled_pool
    extra = client.create_tasks([{"image": "https://example.com/unanswered.jpg"}], pool_id, default_overlap=3)
    client.wait_operations(extra.operation_ids, timeout=10, poll_interval=0.05)
    asset = Asset("toloka://results/labels")
    context = _outlet_context(asset)
    path = tmp_path / "labels.jsonl"
    result = TolokaAggregateOperator(
        task_id="aggregate", pool_id=pool_id, output_path=str(path), outlets=[asset]
    ).execute(context)
    assert result == {
        "pool_id": pool_id,
        "path": str(path),
        "method": "majority_vote",
        "tasks": 5,
        "answered": 4,
        "unanswered": 1,
    }
    rows = {row["input_values"]["image"]: row for row in _jsonl(path)}
    assert tasks[4]["input_values"]["image"] not in rows  # the control task
    first = rows[tasks[0]["input_values"]["image"]]
    assert first["output_values"] == {"result": "boots"} and first["confidence"] == 0.75 and first["answers"] == 4
    assert rows[tasks[2]["input_values"]["image"]]["output_values"] == {"result": "other"}
    unanswered = rows["https://example.com/unanswered.jpg"]
    assert unanswered["output_values"] == {"result": None} and unanswered["confidence"] is None
    assert context["outlet_events"][asset].extra == result


def test_rejected_answers_do_not_count(toloka_conn, client, labeled_pool, tmp_path):
    pool_id, _, ids = labeled_pool
    for user in ("good1", "good2", "good3"):
        client.reject_assignment(ids[user], "no")
    path = tmp_path / "labels.csv"
    TolokaAggregateOperator(task_id="a", pool_id=pool_id, output_path=str(path)).execute(make_context())
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["task_id", "input_values.image", "output_values.result", "confidence", "answers"]
    assert [r["output_values.result"] for r in rows] == ANSWERS["odd"][:4] and {r["confidence"] for r in rows} == {
        "1.0"
    }


def test_dawid_skene_through_crowdkit(toloka_conn, labeled_pool, tmp_path):
    pytest.importorskip("crowdkit")
    pool_id, _, _ = labeled_pool
    path = tmp_path / "ds.jsonl"
    result = TolokaAggregateOperator(task_id="a", pool_id=pool_id, output_path=str(path), method="dawid_skene").execute(
        make_context()
    )
    rows = _jsonl(path)
    assert result["answered"] == 4 and len(rows) == 4
    assert rows[0]["output_values"] == {"result": "boots"} and 0 < rows[0]["confidence"] <= 1


def test_a_crowdkit_method_without_crowdkit_fails_for_good_saying_what_to_install(
    toloka_conn, labeled_pool, tmp_path, mocker
):
    from airflow.providers.common.compat.sdk import AirflowFailException

    pool_id, _, _ = labeled_pool
    mocker.patch.dict("sys.modules", {"crowdkit": None})  # as if the extra were not installed
    with pytest.raises(AirflowFailException, match=r"crowd-kit") as failure:
        TolokaAggregateOperator(
            task_id="a", pool_id=pool_id, output_path=str(tmp_path / "x.jsonl"), method="glad"
        ).execute(make_context())
    assert isinstance(failure.value.__cause__, TolokaConfigError)


def test_server_side_aggregation(toloka_conn, labeled_pool, tmp_path):
    pool_id, tasks, _ = labeled_pool
    path = tmp_path / "server.jsonl"
    result = TolokaAggregateOperator(
        task_id="a", pool_id=pool_id, output_path=str(path), method="toloka:DAWID_SKENE", fields=["result"]
    ).execute(make_context())
    rows = _jsonl(path)
    assert result["method"] == "toloka:DAWID_SKENE" and result["tasks"] == 4
    assert {row["task_id"] for row in rows} == {task["id"] for task in tasks[:4]}
    answered = [row for row in rows if row["answers"] is None and row["confidence"] is not None]
    assert answered and all(row["output_values"]["result"] in ("boots", "sneakers", "other") for row in answered)


def test_bad_aggregation_arguments_fail_for_good(toloka_conn, labeled_pool, tmp_path):
    from airflow.providers.common.compat.sdk import AirflowFailException

    pool_id, _, _ = labeled_pool
    with pytest.raises(AirflowFailException, match="Unknown aggregation method 'mean'") as failure:
        TolokaAggregateOperator(
            task_id="a", pool_id=pool_id, output_path=str(tmp_path / "x.jsonl"), method="mean"
        ).execute(make_context())
    assert isinstance(failure.value.__cause__, TolokaValidationError)
    with pytest.raises(AirflowFailException, match=r"fields \['label'\] are not output fields .*\['result'\]"):
        TolokaAggregateOperator(
            task_id="a", pool_id=pool_id, output_path=str(tmp_path / "x.jsonl"), fields=["label"]
        ).execute(make_context())
    with pytest.raises(AirflowFailException, match="WEIGHTED_DYNAMIC_OVERLAP needs answer_weight_skill_id"):
        TolokaAggregateOperator(
            task_id="a",
            pool_id=pool_id,
            output_path=str(tmp_path / "x.jsonl"),
            method="toloka:WEIGHTED_DYNAMIC_OVERLAP",
        ).execute(make_context())


# --- close ------------------------------------------------------------------------------------


def test_close_and_archive_and_again(toloka_conn, client, pool_id):
    open_with_a_task(client, pool_id)
    assert TolokaClosePoolOperator(task_id="close", pool_id=pool_id).execute(make_context()) == pool_id
    pool = client.get_pool(pool_id)
    assert (pool.status, pool.last_close_reason) == ("CLOSED", "MANUAL")
    for _ in range(2):  # a retry finds it archived already
        TolokaClosePoolOperator(task_id="close", pool_id=pool_id, archive=True).execute(make_context())
        assert client.get_pool(pool_id).status == "ARCHIVED"


def test_templated_fields():
    assert {"pool_id", "output_path", "status"} <= set(TolokaGetAssignmentsOperator.template_fields)
    assert {"pool_id", "output_path", "method"} <= set(TolokaAggregateOperator.template_fields)
    assert {"pool_id", "reject_comment"} <= set(TolokaReviewAssignmentsOperator.template_fields)


def test_registered_importable_beside_the_other_operators_and_cheap_to_import():
    import subprocess
    import sys

    from airflow_provider_toloka import operators
    from airflow_provider_toloka.get_provider_info import get_provider_info
    from airflow_provider_toloka.operators.toloka import TolokaAggregateOperator as Reexported

    assert Reexported is TolokaAggregateOperator and operators
    (entry,) = get_provider_info()["operators"]
    assert "airflow_provider_toloka.operators.results" in entry["python-modules"]
    code = (
        "import sys, airflow_provider_toloka.operators.results; "
        "print([m for m in ('requests', 'pandas', 'pyarrow', 'crowdkit', 'airflow_provider_toloka.client.models') "
        "if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr[-2000:]
