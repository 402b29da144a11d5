"""Cost estimates: the formula on its own, and a pool's tasks as uploaded, read over HTTP from the emulator."""

from __future__ import annotations

import copy
import math
import time

import pytest
from quickstart import SHOES_POOL

from airflow_provider_toloka.client.cost import (
    DEFAULT_FEE_RATE,
    TolokaBudgetError,
    check_budget,
    estimate_cost,
    estimate_pool_cost,
    fee_rate_of,
    money_of,
)
from airflow_provider_toloka.client.errors import TolokaValidationError

IMAGE = "https://example.com/shoes/{}.jpg"


def _pool(**overrides):
    return {**copy.deepcopy(SHOES_POOL), **overrides}


def test_quickstart_pool_formula_by_hand():
    # 10 tasks, 3 per suite, overlap 3: 4 suites (the last holds 1 task), each done 3 times
    estimate = estimate_cost(_pool(), 10, fee_rate=0.25)

    assert (estimate.tasks, estimate.task_suites, estimate.assignments) == (10, 4, 12)
    assert estimate.min_assignments == math.ceil(10 * 3 / 3) == 10
    assert estimate.reward == pytest.approx(12 * 0.02)
    assert estimate.fee == pytest.approx(12 * 0.02 * 0.25)
    assert estimate.total == pytest.approx(12 * 0.02 * 1.25)
    assert estimate.min_total == pytest.approx(10 * 0.02 * 1.25)
    assert estimate.as_dict()["total"] == pytest.approx(0.3)


def test_default_fee_rate_and_settings_as_text():
    assert estimate_cost(_pool(), 3).fee_rate == DEFAULT_FEE_RATE
    assert fee_rate_of("0.2") == 0.2
    assert money_of(" 12.5 ", "max_cost") == 12.5
    assert money_of("", "max_cost") is None
    with pytest.raises(TolokaValidationError, match="fee_rate"):
        fee_rate_of("thirty")
    with pytest.raises(TolokaValidationError, match="max_cost must be at least 0"):
        money_of("-1", "max_cost")


def test_tasks_grouped_by_overlap_and_control_tasks_left_out():
    tasks = [{"input_values": {"image": IMAGE.format(i)}, "overlap": 5} for i in range(4)]
    tasks += [{"image": IMAGE.format(i)} for i in range(7)]  # bare input values: the pool's default overlap 3
    tasks.append({"input_values": {"image": "x"}, "known_solutions": [{"output_values": {"result": "boots"}}]})

    estimate = estimate_cost(_pool(), tasks, fee_rate=0)

    # overlap 5: ceil(4/3)=2 suites x5; overlap 3: ceil(7/3)=3 suites x3
    assert (estimate.tasks, estimate.control_tasks) == (11, 1)
    assert (estimate.task_suites, estimate.assignments) == (5, 2 * 5 + 3 * 3)
    assert estimate.min_assignments == math.ceil((4 * 5 + 7 * 3) / 3)
    assert estimate.total == pytest.approx(19 * 0.02)


def test_no_mixer_means_one_task_per_suite_and_dynamic_pricing_takes_the_highest_reward():
    pool = _pool(dynamic_pricing_config={"intervals": [{"from": 0, "reward_per_assignment": 0.05}]})
    del pool["mixer_config"]
    estimate = estimate_cost(pool, 4, overlap=2, fee_rate=0)

    assert (estimate.task_suites, estimate.assignments, estimate.reward_per_assignment) == (4, 8, 0.05)


def test_unbounded_or_unknown_overlap_is_refused():
    with pytest.raises(TolokaValidationError, match="infinite_overlap"):
        estimate_cost(_pool(), [{"input_values": {"image": "x"}, "infinite_overlap": True}])
    with pytest.raises(TolokaValidationError, match="default overlap"):
        estimate_cost(_pool(defaults={}), 5)


def test_check_budget_names_estimate_limit_and_balance():
    estimate = estimate_cost(_pool(), 300, fee_rate=0.3)  # 300 assignments: 7.80
    check_budget(estimate, max_cost=7.8, balance=100.0)
    with pytest.raises(TolokaBudgetError, match=r"estimate 7\.80, limit 5, balance 100\)") as refused:
        check_budget(estimate, max_cost=5, balance=100.0)
    assert "over the limit max_cost=5" in str(refused.value)
    with pytest.raises(TolokaBudgetError, match=r"over the requester's balance 7\.5 \(estimate 7\.80, limit none"):
        check_budget(estimate, max_cost=None, balance=7.5)


def _upload(client, pool_id, tasks):
    """Upload and wait until the tasks are in the pool."""
    result = client.create_tasks(tasks, pool_id, batch_size=1000)
    client.wait_operations(result.operation_ids, timeout=30, poll_interval=0.1)


def test_pool_estimate_read_from_the_api_equals_the_local_one(client, pool_id):
    tasks = [{"input_values": {"image": IMAGE.format(i)}, "overlap": 1 + i % 3} for i in range(25)]
    _upload(client, pool_id, tasks)

    read = estimate_pool_cost(client, pool_id, fee_rate=0.3, remaining=False)
    local = estimate_cost(client.get_pool(pool_id), tasks, fee_rate=0.3)

    assert read.as_dict() == {**local.as_dict(), "pool_id": pool_id}
    assert read.tasks == 25 and read.assignments > 0


def test_remaining_counts_issued_work_and_leaves_out_finished_tasks(emulator, client, pool_id):
    tasks = [{"input_values": {"image": IMAGE.format(i)}, "overlap": 2} for i in range(6)]
    _upload(client, pool_id, tasks)
    uploaded = list(client.iter_tasks(pool_id))
    assert estimate_pool_cost(client, pool_id, fee_rate=0).assignments == 2 * 2  # 2 suites x overlap 2

    # the first suite's tasks done by both tolokers, one more suite issued and not yet reviewed
    for task in uploaded[:3]:
        emulator.state.tasks.get(task["id"])["remaining_overlap"] = 0
    emulator.state.add_assignment(pool_id, uploaded[3:], status="SUBMITTED")
    remaining = estimate_pool_cost(client, pool_id, fee_rate=0)
    whole = estimate_pool_cost(client, pool_id, fee_rate=0, remaining=False)

    assert (remaining.remaining, remaining.tasks, remaining.pending_assignments) == (True, 3, 1)
    # issued work lowers the tasks' remaining_overlap as the API shows it; still to issue + the pending one
    still_open = [
        {"input_values": task["input_values"], "overlap": task["remaining_overlap"]}
        for task in client.iter_tasks(pool_id)
        if task["remaining_overlap"]
    ]
    assert len(still_open) == 3
    assert remaining.assignments == estimate_cost(client.get_pool(pool_id), still_open).assignments + 1
    assert remaining.total == pytest.approx(remaining.assignments * 0.02)
    assert (whole.remaining, whole.tasks, whole.assignments) == (False, 6, 4)


def _wait_closed(client, pool_id: str, timeout: float = 60.0) -> str | None:
    deadline = time.monotonic() + timeout
    while client.get_pool(pool_id).status == "OPEN" and time.monotonic() < deadline:
        time.sleep(0.1)
    return client.get_pool(pool_id).last_close_reason


@pytest.mark.toloka_emulator(
    simulate_tolokers=True, toloker_speed=200.0, seed=3, balance=100.0, fee_rate=0.3, operation_delay=0.0
)
@pytest.mark.parametrize(
    ("task_count", "suite_size", "overlaps"),
    [(30, 3, [3]), (31, 3, [3]), (100, 4, [1, 3, 5])],
)
def test_estimate_brackets_what_the_emulator_charged_for_a_completed_pool(
    toloka_emulator, make_client, shoes_project, shoes_pool, task_count, suite_size, overlaps
):
    client = make_client(toloka_emulator.url)
    pool = shoes_pool(client.create_project(shoes_project).id)
    pool["auto_accept_solutions"] = True
    pool["mixer_config"]["real_tasks_count"] = suite_size
    pool_id = client.create_pool(pool).id
    tasks = [
        {"input_values": {"image": IMAGE.format(i)}, "overlap": overlaps[i % len(overlaps)]} for i in range(task_count)
    ]
    _upload(client, pool_id, tasks)
    estimate = estimate_pool_cost(client, pool_id, fee_rate=0.3)
    before = client.get_requester()["balance"]

    client.wait_operation(client.open_pool(pool_id).id, timeout=30, poll_interval=0.05)
    assert _wait_closed(client, pool_id) == "COMPLETED"

    charged = before - client.get_requester()["balance"]
    accepted = sum(1 for _ in client.iter_assignments(pool_id, status="ACCEPTED"))
    # the documented rounding: between every suite full and one partial suite per overlap group
    assert estimate.min_assignments <= accepted <= estimate.assignments
    assert estimate.min_total - 1e-9 <= charged <= estimate.total + 1e-9
    assert charged == pytest.approx(accepted * 0.02 * 1.3)
