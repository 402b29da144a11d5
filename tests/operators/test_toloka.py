"""Operators against the emulator over HTTP: ids returned, retries reuse what the first try made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from airflow_context import make_context

from airflow_provider_toloka.client.errors import TolokaConflictError, TolokaValidationError
from airflow_provider_toloka.links.toloka import TOLOKA_URL_XCOM_KEY
from airflow_provider_toloka.operators.toloka import (
    TolokaCreatePoolOperator,
    TolokaCreateProjectOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
)


@contextmanager
def fails_for_good(cause: type[Exception], match: str) -> Iterator[None]:
    """The block fails the task without retries (AirflowFailException), raised from ``cause``."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    with pytest.raises(AirflowFailException, match=match) as failure:
        yield
    assert isinstance(failure.value.__cause__, cause)


def _count(client, path: str, **params: Any) -> int:
    return len(client.http.request("GET", path, params={"limit": 300, **params})["items"])


def test_create_project_returns_id_and_a_retry_reuses_it(toloka_conn, client, shoes_project, tmp_path):
    path = tmp_path / "project.json"
    path.write_text(json.dumps(shoes_project))
    operator = TolokaCreateProjectOperator(task_id="create_project", project_config=str(path))
    context = make_context(task_id="create_project", run_id="retry-project")
    before = _count(client, "/projects")

    first = operator.execute(context)
    second = TolokaCreateProjectOperator(task_id="create_project", project_config=str(path)).execute(context)

    assert first == second
    assert _count(client, "/projects") == before + 1
    assert client.get_project(first).public_name == shoes_project["public_name"]
    assert context["ti"].xcom[TOLOKA_URL_XCOM_KEY].endswith(f"/requester/project/{first}")


def test_create_project_from_json_string_in_another_run_makes_a_new_project(toloka_conn, client, shoes_project):
    ids = {
        TolokaCreateProjectOperator(task_id="p", project_config=json.dumps(shoes_project)).execute(
            make_context(task_id="p", run_id=run)
        )
        for run in ("run_a", "run_b")
    }
    assert len(ids) == 2


def test_invalid_project_fails_before_any_request(toloka_conn, client, shoes_project):
    del shoes_project["public_name"]
    before = _count(client, "/projects")
    with fails_for_good(TolokaValidationError, "public_name"):
        TolokaCreateProjectOperator(task_id="p", project_config=shoes_project).execute(make_context())
    assert _count(client, "/projects") == before


def test_project_config_path_that_does_not_exist_is_named(toloka_conn):
    with fails_for_good(TolokaValidationError, "project_config: file 'nope/project.json' not found"):
        TolokaCreateProjectOperator(task_id="p", project_config="nope/project.json").execute(make_context())


def test_create_pool_applies_overrides_and_relative_expiry(toloka_conn, client, shoes_project, shoes_pool):
    project_id = client.create_project(shoes_project).id
    config = shoes_pool("ignored")
    operator = TolokaCreatePoolOperator(
        task_id="create_pool",
        pool_config=config,
        project_id=project_id,
        private_name="Batch 2026-11-20",
        will_expire="+7d",
        pool_overrides={"reward_per_assignment": "0.05"},
    )
    context = make_context(task_id="create_pool", run_id="retry-pool")
    pool_id = operator.execute(context)
    assert operator.execute(context) == pool_id
    pool = client.get_pool(pool_id)
    assert (pool.project_id, pool.private_name, pool.reward_per_assignment) == (project_id, "Batch 2026-11-20", 0.05)
    assert _count(client, "/pools", project_id=project_id) == 1
    assert context["ti"].xcom[TOLOKA_URL_XCOM_KEY].endswith(f"/project/{project_id}/pool/{pool_id}")


def test_create_pool_rejects_a_bad_expiry_with_its_value(toloka_conn, shoes_pool):
    operator = TolokaCreatePoolOperator(task_id="p", pool_config=shoes_pool("1"), will_expire="next week")
    with fails_for_good(TolokaValidationError, "'next week'"):
        operator.execute(make_context())


def _upload(pool_id: str, tasks: Any, run_id: str = "run_1", **kwargs: Any) -> list[str]:
    operator = TolokaCreateTasksOperator(task_id="upload", pool_id=pool_id, tasks=tasks, **kwargs)
    return operator.execute(make_context(task_id="upload", run_id=run_id))


def test_upload_from_jsonl_returns_operation_ids_and_a_retry_duplicates_nothing(toloka_conn, client, pool_id, tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps({"image": f"https://example.com/{i}.jpg"}) + "\n" for i in range(25)))

    operation_ids = _upload(pool_id, str(path), batch_size=10, default_overlap="2")
    again = _upload(pool_id, str(path), batch_size=10, default_overlap="2")

    assert len(operation_ids) == 3 and again == operation_ids
    for operation_id in operation_ids:
        assert client.wait_operation(operation_id, timeout=10).status == "SUCCESS"
    tasks = list(client.iter_tasks(pool_id))
    assert sorted(t["input_values"]["image"] for t in tasks) == sorted(
        f"https://example.com/{i}.jpg" for i in range(25)
    )
    assert {t["overlap"] for t in tasks} == {2}


def test_upload_of_an_invalid_file_names_the_task_and_sends_nothing(toloka_conn, client, pool_id, tmp_path):
    path = tmp_path / "tasks.jsonl"
    lines = [json.dumps({"image": f"https://example.com/{i}.jpg"}) for i in range(30)]
    lines[27] = json.dumps({"image": "https://example.com/27.jpg", "colour": "red"})
    path.write_text("\n".join(lines) + "\n")
    with fails_for_good(TolokaValidationError, r"tasks.jsonl\[27\].*input_values.colour"):
        _upload(pool_id, str(path), batch_size=10)
    assert list(client.iter_tasks(pool_id)) == []


def test_upload_of_a_broken_jsonl_line_names_the_line(toloka_conn, client, pool_id, tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"image": "https://example.com/0.jpg"}\n{"image": oops}\n')
    with fails_for_good(TolokaValidationError, "line 2"):
        _upload(pool_id, str(path))
    assert list(client.iter_tasks(pool_id)) == []


def test_upload_with_skip_invalid_items_sends_only_the_valid(toloka_conn, client, pool_id):
    tasks = [{"image": "https://example.com/a.jpg"}, {"image": 7}, {"image": "https://example.com/b.jpg"}]
    operation_ids = _upload(pool_id, tasks, skip_invalid_items=True, wait_for_completion=True, poll_interval=0.05)
    assert len(operation_ids) == 1
    assert len(list(client.iter_tasks(pool_id))) == 2


def test_upload_waiting_deferrably_defers_to_the_operation_trigger(slow_toloka_conn, shoes_project, shoes_pool):
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger

    client = slow_toloka_conn
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    operator = TolokaCreateTasksOperator(
        task_id="upload",
        pool_id=pool_id,
        tasks=[{"image": "https://example.com/a.jpg"}],
        wait_for_completion=True,
        deferrable=True,
        poll_interval=0.5,
    )
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(task_id="upload"))
    trigger = deferred.value.trigger
    assert isinstance(trigger, TolokaOperationTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert not deferred.value.kwargs  # resumes from the event alone, as `airflow dags test` does
    operation_ids = trigger.serialize()[1]["operation_ids"]
    assert len(operation_ids) == 1
    event = {"status": "success", "totals": {"success_count": 1}, "operation_ids": operation_ids}
    assert operator.execute_complete(make_context(), event) == operation_ids


def test_a_retried_upload_whose_operations_are_done_does_not_defer(toloka_conn, client, pool_id):
    tasks = [{"image": "https://example.com/a.jpg"}]
    first = _upload(pool_id, tasks, run_id="done-retry")
    client.wait_operations(first, timeout=10, poll_interval=0.05)
    again = _upload(pool_id, tasks, run_id="done-retry", wait_for_completion=True, deferrable=True)  # no TaskDeferred
    assert again == first and len(list(client.iter_tasks(pool_id))) == 1


def test_open_pool_defers_while_pool_open_runs(slow_toloka_conn, shoes_project, shoes_pool):
    from airflow.providers.common.compat.sdk import TaskDeferred

    client = slow_toloka_conn
    pool_id = client.create_pool(shoes_pool(client.create_project(shoes_project).id)).id
    client.create_tasks([{"image": "https://example.com/a.jpg"}], pool_id, async_mode=False)
    operator = TolokaOpenPoolOperator(task_id="open", pool_id=pool_id, deferrable=True, poll_interval=1)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(task_id="open"))
    (operation_id,) = deferred.value.trigger.serialize()[1]["operation_ids"]
    assert client.get_operation(operation_id).type == "POOL.OPEN"


def test_open_pool_waits_until_open_and_open_again_is_fine(toloka_conn, client, pool_id):
    client.create_tasks([{"image": "https://example.com/a.jpg"}], pool_id, wait=True)
    assert TolokaOpenPoolOperator(task_id="open", pool_id=pool_id).execute(make_context()) == pool_id
    assert client.get_pool(pool_id).status == "OPEN"
    assert TolokaOpenPoolOperator(task_id="open", pool_id=pool_id).execute(make_context()) == pool_id


def test_open_empty_pool_fails_with_empty_pool(toloka_conn, pool_id):
    with fails_for_good(TolokaConflictError, "EMPTY_POOL"):
        TolokaOpenPoolOperator(task_id="open", pool_id=pool_id).execute(make_context())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"batch_size": "abc"}, "batch_size must be a whole number, got 'abc'"),
        ({"default_overlap": "abc"}, "default_overlap must be a whole number, got 'abc'"),
        ({"pool_id": None}, "pool_id is empty"),
        ({"tasks": []}, "tasks holds no tasks to upload"),
    ],
)
def test_bad_upload_arguments_fail_for_good_naming_the_argument(toloka_conn, pool_id, arguments, message):
    arguments = {"pool_id": pool_id, "tasks": [{"image": "https://example.com/a.jpg"}], **arguments}
    with fails_for_good(TolokaValidationError, message):
        _upload(**arguments)


def test_an_empty_tasks_file_fails_naming_the_file_unless_allowed(toloka_conn, pool_id, tmp_path):
    path = tmp_path / "day.jsonl"
    path.write_text("\n")
    with fails_for_good(TolokaValidationError, f"{path} holds no tasks"):
        _upload(pool_id, str(path))
    assert _upload(pool_id, str(path), allow_empty=True) == []


def test_tasks_file_by_url_is_read_through_object_storage(toloka_conn, client, pool_id, tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps({"image": f"https://example.com/{i}.jpg"}) + "\n" for i in range(3)))
    _upload(pool_id, f"file://{path}", wait_for_completion=True, poll_interval=0.05)
    assert len(list(client.iter_tasks(pool_id))) == 3


def test_pool_is_not_an_argument_name_and_templated_fields_are_declared():
    assert "pool" not in TolokaCreatePoolOperator.template_fields
    assert {"pool_config", "project_id", "will_expire"} <= set(TolokaCreatePoolOperator.template_fields)
    assert {"pool_id", "tasks"} <= set(TolokaCreateTasksOperator.template_fields)
    assert "project_config" in TolokaCreateProjectOperator.template_fields
