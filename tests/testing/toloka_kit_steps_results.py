"""The requester workflow with toloka-kit, second half: the crowd's answers, their review, aggregation, archiving.

The emulator runs with simulated tolokers, so an OPEN pool gets answers and closes by itself when every
task has them. Runs in the toloka-kit interpreter only (see ``toloka_kit_steps_setup.py``).
"""

from __future__ import annotations

import asyncio
import datetime
import time
from decimal import Decimal

import toloka.client as toloka
from toloka.client.analytics_request import CompletionPercentagePoolAnalytics
from toloka.streaming import AssignmentsObserver
from toloka.streaming.cursor import AssignmentCursor
from toloka_kit_steps_setup import LABELS, REWARD, Context

#: Bound on every wait for the simulated crowd, in seconds.
CROWD_TIMEOUT = 60.0
POLL_SECONDS = 0.2
NO_LAG = datetime.timedelta(0)
SKILL_VALUE = Decimal(80)


def open_pool(ctx: Context) -> None:
    opened = ctx.client.open_pool(ctx.pool.id)  # waits for the POOL.OPEN operation
    assert opened.status == toloka.Pool.Status.OPEN, opened
    assert ctx.client.open_pool_async(ctx.pool.id) is None  # 204: already open


def poll_completion_percentage(ctx: Context) -> None:
    percentages: list[float] = []
    deadline = time.monotonic() + CROWD_TIMEOUT
    while not percentages or percentages[-1] < 100:
        assert time.monotonic() < deadline, f"completion stayed below 100%: {percentages}"
        operation = ctx.client.wait_operation(
            ctx.client.get_analytics([CompletionPercentagePoolAnalytics(subject_id=ctx.pool.id)])
        )
        percentages.append(operation.details["value"][0]["result"]["value"])
        time.sleep(POLL_SECONDS)
    assert percentages == sorted(percentages), percentages
    ctx.summary["completion_percentages"] = percentages


def review_with_assignments_observer(ctx: Context) -> None:
    """Accept what the crowd submits, reject the first assignment, until the pool is closed and reviewed."""

    def review(events: list) -> None:
        for event in events:
            assignment = event.assignment
            if not ctx.reviewed:
                ctx.client.reject_assignment(assignment.id, "Wrong category")
                ctx.reviewed[assignment.id] = "REJECTED"
            else:
                ctx.client.accept_assignment(assignment.id, "Well done")
                ctx.reviewed[assignment.id] = "ACCEPTED"

    observer = AssignmentsObserver(ctx.client, ctx.pool.id, cursor_time_lag=NO_LAG)
    observer.on_submitted(review)

    async def observe() -> None:
        await observer.run(period=datetime.timedelta(seconds=POLL_SECONDS))
        await observer()  # submitted between the last call and the pool's closing

    asyncio.run(asyncio.wait_for(observe(), CROWD_TIMEOUT))
    pool = ctx.client.get_pool(ctx.pool.id)
    assert pool.status == toloka.Pool.Status.CLOSED, pool
    assert pool.last_close_reason == toloka.Pool.CloseReason.COMPLETED, pool
    assert "REJECTED" in ctx.reviewed.values() and "ACCEPTED" in ctx.reviewed.values(), ctx.reviewed


def find_assignments_by_status(ctx: Context) -> None:
    assert not list(ctx.client.get_assignments(pool_id=ctx.pool.id, status=["SUBMITTED", "ACTIVE"]))
    reviewed = list(ctx.client.get_assignments(pool_id=ctx.pool.id, status=["ACCEPTED", "REJECTED"]))
    assert {item.id: item.status.value for item in reviewed} == ctx.reviewed
    rejected = ctx.client.find_assignments(pool_id=ctx.pool.id, status="REJECTED", limit=10)
    assert [item.id for item in rejected.items] == [key for key, value in ctx.reviewed.items() if value == "REJECTED"]
    one = ctx.client.get_assignment(reviewed[0].id)
    assert one.pool_id == ctx.pool.id and one.solutions and one.solutions[0].output_values["result"] in LABELS, one


def stream_submitted_with_cursor(ctx: Context) -> None:
    cursor = AssignmentCursor(pool_id=ctx.pool.id, event_type="SUBMITTED", toloka_client=ctx.client, time_lag=NO_LAG)
    events = list(cursor)
    assert sorted(event.assignment.id for event in events) == sorted(ctx.reviewed), len(events)
    times = [event.event_time for event in events]
    assert times == sorted(times), "events out of submitted order"
    assert not list(cursor), "the cursor saw an event twice"


def accept_rejected_assignment(ctx: Context) -> None:
    rejected = next(key for key, value in ctx.reviewed.items() if value == "REJECTED")
    accepted = ctx.client.accept_assignment(rejected, "On second look, right")
    assert accepted.status == toloka.Assignment.ACCEPTED, accepted
    ctx.reviewed[rejected] = "ACCEPTED"


def balance_is_charged(ctx: Context) -> None:
    balance = float(ctx.client.get_requester().balance)
    accepted = sum(1 for status in ctx.reviewed.values() if status == "ACCEPTED")
    assert ctx.balance - balance >= accepted * REWARD - 1e-6, (ctx.balance, balance, accepted)
    ctx.summary["spent"] = round(ctx.balance - balance, 6)


def set_user_skills(ctx: Context) -> None:
    users = sorted({item.user_id for item in ctx.client.get_assignments(pool_id=ctx.pool.id)})
    for user_id in users:
        skill = ctx.client.set_user_skill(skill_id=ctx.skill.id, user_id=user_id, value=SKILL_VALUE)
        assert skill.value == SKILL_VALUE and skill.user_id == user_id, skill
    listed = list(ctx.client.get_user_skills(skill_id=ctx.skill.id))
    assert sorted(item.user_id for item in listed) == users, listed


def aggregate_solutions_by_pool(ctx: Context) -> None:
    operation = ctx.client.aggregate_solutions_by_pool(
        type="DAWID_SKENE", pool_id=ctx.pool.id, fields=[{"name": "result"}]
    )
    done = ctx.client.wait_operation(operation)
    assert done.status == toloka.operations.Operation.Status.SUCCESS, done
    solutions = list(ctx.client.get_aggregated_solutions(done.id))
    assert sorted(item.task_id for item in solutions) == sorted(ctx.task_ids), len(solutions)
    assert all(item.output_values["result"] in LABELS and 0 <= item.confidence <= 1 for item in solutions)
    first = ctx.client.find_aggregated_solutions(done.id, sort="task_id", limit=5)
    assert first.has_more and [item.task_id for item in first.items] == sorted(ctx.task_ids)[:5], first
    ctx.summary["aggregated"] = {item.task_id: item.output_values["result"] for item in solutions}


def archive_everything(ctx: Context) -> None:
    for pool_id in (ctx.pool.id, ctx.clone.id):
        assert ctx.client.archive_pool(pool_id).status == toloka.Pool.Status.ARCHIVED
    assert ctx.client.archive_training(ctx.training.id).status == toloka.Training.Status.ARCHIVED
    archived = ctx.client.archive_project(ctx.project.id)
    assert archived.status == toloka.Project.ProjectStatus.ARCHIVED, archived


RESULTS_STEPS = [
    open_pool,
    poll_completion_percentage,
    review_with_assignments_observer,
    find_assignments_by_status,
    stream_submitted_with_cursor,
    accept_rejected_assignment,
    balance_is_charged,
    set_user_skills,
    aggregate_solutions_by_pool,
    archive_everything,
]
