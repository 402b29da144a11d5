"""The results part of the client against the emulator: assignments streamed, pool state, progress."""

from __future__ import annotations

import pytest
from crowd_seed import add_answers, make_tasks, set_close_reason

from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.pools import judge_pool


def test_assignments_stream_page_by_page_in_id_order_with_status_filters(emulator, client, pool_id):
    tasks = make_tasks(client, pool_id, 3)
    made = [add_answers(emulator, pool_id, f"u{i}", tasks, ["boots"] * 3) for i in range(5)]
    made.append(add_answers(emulator, pool_id, "u9", tasks, ["boots"] * 3, status="ACCEPTED"))
    requests = []
    original = client.http.request

    def counting(method, path, **kwargs):
        requests.append(kwargs.get("params"))
        return original(method, path, **kwargs)

    client.http.request = counting
    listed = list(client.iter_assignments(pool_id, page_size=2))
    assert [a["id"] for a in listed] == sorted(a["id"] for a in made)
    assert len(requests) == 3 and requests[1]["id_gt"] == listed[1]["id"]
    assert [a["user_id"] for a in client.iter_assignments(pool_id, "ACCEPTED")] == ["u9"]
    assert len(list(client.iter_assignments(pool_id, ["submitted"], after_id=listed[2]["id"]))) == 2


def test_a_list_of_statuses_is_sent_comma_separated(emulator, client, pool_id):
    tasks = make_tasks(client, pool_id, 1)
    for status in ("SUBMITTED", "ACCEPTED", "REJECTED"):
        add_answers(emulator, pool_id, status, tasks, ["boots"], status=status)
    listed = {a["status"] for a in client.iter_assignments(pool_id, ["SUBMITTED", "ACCEPTED"])}
    assert listed == {"SUBMITTED", "ACCEPTED"}


def test_an_unknown_status_is_refused_before_any_request(client):
    with pytest.raises(TolokaValidationError, match="DONE"):
        client.iter_assignments("1", ["SUBMITTED", "DONE"])


def test_pool_state_reads_close_reason_active_work_and_progress(emulator, client, pool_id):
    tasks = make_tasks(client, pool_id, 4)
    add_answers(emulator, pool_id, "a", tasks[:2], ["boots", "other"], status="ACCEPTED")
    add_answers(emulator, pool_id, "b", tasks[2:], ["boots", "boots"], status="SUBMITTED")
    active = add_answers(emulator, pool_id, "c", tasks[:2], [], status="ACTIVE")

    state = client.read_pool_state(pool_id)
    assert state.has_active and state.progress is not None
    assert state.progress.tasks == 4
    assert state.progress.assignments["ACCEPTED"] == 1 and state.progress.assignments["ACTIVE"] == 1
    assert state.progress.reward == pytest.approx(0.02)  # one accepted assignment at the pool's reward
    assert judge_pool(state)[0] == "pending"

    set_close_reason(emulator, pool_id, "CLOSED", "COMPLETED")
    assert judge_pool(client.read_pool_state(pool_id, scan_limit=0)) == (
        "pending",
        "the pool closed (COMPLETED) but some assignments are still ACTIVE",
    )
    with emulator.state.lock:
        emulator.state.assignments[active["id"]]["status"] = "SUBMITTED"
    state = client.read_pool_state(pool_id, scan_limit=0)
    assert state.progress is None and judge_pool(state)[0] == "done"
    assert state.summary() == {"pool_id": pool_id, "status": "CLOSED", "last_close_reason": "COMPLETED"}


def test_progress_counts_stop_at_the_scan_limit(emulator, client, pool_id):
    tasks = make_tasks(client, pool_id, 5)
    for user in "abc":
        add_answers(emulator, pool_id, user, tasks, ["boots"] * 5)
    progress = client.pool_progress(pool_id, scan_limit=2)
    assert not progress.complete and progress.tasks == 2 and sum(progress.assignments.values()) == 2
    assert "2+ tasks" in progress.describe()
