"""The requester workflow with toloka-kit, first half: account, project, skill, training, pools and tasks.

Each step is a function of the shared :class:`Context`, named after what it does, so that a failure
names the step (``toloka_kit_script.py`` runs them in order). Runs in the toloka-kit interpreter only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import toloka.client as toloka
from toloka.client.project.field_spec import StringSpec, UrlSpec
from toloka.client.project.task_spec import TaskSpec
from toloka.client.project.view_spec import ClassicViewSpec

LABELS = ["boots", "sneakers", "other"]
OVERLAP = 3
REWARD = 0.02
#: Tasks of the main pool, by the way they are created.
SYNC_TASKS = 10
ASYNC_TASKS = 20
ASYNC_OPERATION_TASKS = 5
#: A clone's task asks for more answers than the emulator has tolokers, so the clone never completes.
UNREACHABLE_OVERLAP = 1000


@dataclass
class Context:
    """What the steps share: the client and the objects created so far."""

    client: toloka.TolokaClient
    balance: float = 0.0
    project: Any = None
    skill: Any = None
    training: Any = None
    pool: Any = None
    clone: Any = None
    task_ids: list[str] = field(default_factory=list)
    reviewed: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def image_task(pool_id: str, number: int, **extra: Any) -> toloka.Task:
    """A task of the shoes project."""
    return toloka.Task(pool_id=pool_id, input_values={"image": f"https://example.com/{number}.jpg"}, **extra)


def get_requester(ctx: Context) -> None:
    requester = ctx.client.get_requester()
    assert requester.id and requester.balance is not None, requester
    ctx.balance = float(requester.balance)


def create_project(ctx: Context) -> None:
    ctx.project = ctx.client.create_project(
        toloka.Project(
            public_name="Categories of shoes",
            public_description="Look at the picture and determine the category of shoes",
            task_spec=TaskSpec(
                input_spec={"image": UrlSpec()},
                output_spec={"result": StringSpec(allowed_values=LABELS)},
                view_spec=ClassicViewSpec(script="exports = {}", markup="<p>{{img src=image}}</p>", styles=""),
            ),
        )
    )
    assert ctx.project.id and ctx.project.status == toloka.Project.ProjectStatus.ACTIVE, ctx.project


def update_project(ctx: Context) -> None:
    ctx.project.public_instructions = "Choose the category that fits best."
    updated = ctx.client.update_project(ctx.project.id, ctx.project)
    assert updated.public_instructions == "Choose the category that fits best.", updated
    assert ctx.client.get_project(ctx.project.id).public_instructions == updated.public_instructions


def create_skill(ctx: Context) -> None:
    ctx.skill = ctx.client.create_skill(name="Shoe expert", hidden=True, public_requester_description={"EN": "Shoes"})
    assert ctx.skill.id and ctx.skill.name == "Shoe expert", ctx.skill
    assert ctx.skill.id in {skill.id for skill in ctx.client.get_skills(name="Shoe expert")}


def create_training(ctx: Context) -> None:
    ctx.training = ctx.client.create_training(
        toloka.Training(
            project_id=ctx.project.id,
            private_name="Shoes training",
            may_contain_adult_content=False,
            assignment_max_duration_seconds=600,
            mix_tasks_in_creation_order=True,
            shuffle_tasks_in_task_suite=False,
            training_tasks_in_task_suite_count=2,
            task_suites_required_to_pass=1,
            retry_training_after_days=1,
            inherited_instructions=True,
        )
    )
    assert ctx.training.id and ctx.training.status == toloka.Training.Status.CLOSED, ctx.training


def add_training_tasks_and_open_training(ctx: Context) -> None:
    tasks = [
        image_task(
            ctx.training.id,
            1000 + number,
            known_solutions=[toloka.Task.KnownSolution(output_values={"result": label})],
            message_on_unknown_solution=f"These are {label}",
            infinite_overlap=True,
        )
        for number, label in enumerate(LABELS[:2])
    ]
    created = ctx.client.create_tasks(tasks, allow_defaults=True)
    assert len(created.items) == 2 and not created.validation_errors, created
    opened = ctx.client.open_training(ctx.training.id)
    assert opened.status == toloka.Training.Status.OPEN, opened


def close_training(ctx: Context) -> None:
    closed = ctx.client.close_training(ctx.training.id)
    assert closed.status == toloka.Training.Status.CLOSED, closed


def create_pool(ctx: Context) -> None:
    pool = toloka.Pool(
        project_id=ctx.project.id,
        private_name="Shoes pool",
        may_contain_adult_content=False,
        will_expire=datetime.datetime.utcnow() + datetime.timedelta(days=1),
        reward_per_assignment=REWARD,
        assignment_max_duration_seconds=600,
        auto_accept_solutions=False,
        auto_accept_period_day=7,
        defaults=toloka.Pool.Defaults(default_overlap_for_new_task_suites=OVERLAP),
    )
    pool.set_mixer_config(real_tasks_count=5, golden_tasks_count=0, training_tasks_count=0)
    ctx.pool = ctx.client.create_pool(pool)
    assert ctx.pool.id and ctx.pool.status == toloka.Pool.Status.CLOSED, ctx.pool


def clone_and_patch_pool(ctx: Context) -> None:
    ctx.clone = ctx.client.clone_pool(ctx.pool.id)
    assert ctx.clone.id != ctx.pool.id and ctx.clone.private_name == "Shoes pool", ctx.clone
    patched = ctx.client.patch_pool(
        ctx.clone.id, priority=10
    )  # the reference allows 0..100 (toloka-kit's docstring says -100..100)
    assert patched.priority == 10, patched


def update_pool(ctx: Context) -> None:
    ctx.clone.private_name = "Shoes pool (copy)"
    updated = ctx.client.update_pool(ctx.clone.id, ctx.clone)
    assert updated.private_name == "Shoes pool (copy)", updated
    assert ctx.client.get_pool(ctx.clone.id).private_name == "Shoes pool (copy)"


def close_pool_for_update_and_close_pool(ctx: Context) -> None:
    task = image_task(ctx.clone.id, 999, overlap=UNREACHABLE_OVERLAP)
    ctx.client.create_tasks([task], allow_defaults=True, async_mode=False)
    assert ctx.client.open_pool(ctx.clone.id).status == toloka.Pool.Status.OPEN
    for_update = ctx.client.close_pool_for_update(ctx.clone.id)
    assert for_update.status == toloka.Pool.Status.CLOSED, for_update
    assert for_update.last_close_reason == toloka.Pool.CloseReason.FOR_UPDATE, for_update
    assert ctx.client.open_pool(ctx.clone.id).status == toloka.Pool.Status.OPEN
    closed = ctx.client.wait_operation(ctx.client.close_pool_async(ctx.clone.id))
    assert closed.status == toloka.operations.Operation.Status.SUCCESS, closed
    pool = ctx.client.get_pool(ctx.clone.id)
    assert pool.status == toloka.Pool.Status.CLOSED and pool.last_close_reason == toloka.Pool.CloseReason.MANUAL, pool


def create_tasks_sync(ctx: Context) -> None:
    tasks = [image_task(ctx.pool.id, number) for number in range(SYNC_TASKS)]
    result = ctx.client.create_tasks(tasks, allow_defaults=True, async_mode=False)
    assert len(result.items) == SYNC_TASKS and not result.validation_errors, result
    ctx.task_ids += [task.id for _, task in sorted(result.items.items(), key=lambda item: int(item[0]))]


def create_tasks_async(ctx: Context) -> None:
    tasks = [image_task(ctx.pool.id, SYNC_TASKS + number) for number in range(ASYNC_TASKS)]
    result = ctx.client.create_tasks(tasks, allow_defaults=True)  # async_mode is toloka-kit's default
    assert len(result.items) == ASYNC_TASKS and not result.validation_errors, result
    assert {task.overlap for task in result.items.values()} == {OVERLAP}
    ctx.task_ids += [task.id for _, task in sorted(result.items.items(), key=lambda item: int(item[0]))]


def create_tasks_async_and_wait_operation(ctx: Context) -> None:
    first = SYNC_TASKS + ASYNC_TASKS
    tasks = [image_task(ctx.pool.id, first + number) for number in range(ASYNC_OPERATION_TASKS)]
    operation = ctx.client.create_tasks_async(tasks, allow_defaults=True)
    done = ctx.client.wait_operation(operation)
    assert done.status == toloka.operations.Operation.Status.SUCCESS, done
    assert done.details["success_count"] == ASYNC_OPERATION_TASKS, done
    log = ctx.client.get_operation_log(done.id)
    assert len(log) == ASYNC_OPERATION_TASKS and all(item.success for item in log), log
    ctx.task_ids += [item.output["task_id"] for item in log]


def create_single_task(ctx: Context) -> None:
    number = SYNC_TASKS + ASYNC_TASKS + ASYNC_OPERATION_TASKS
    task = ctx.client.create_task(image_task(ctx.pool.id, number), allow_defaults=True)
    assert task.id and task.pool_id == ctx.pool.id and task.overlap == OVERLAP, task
    ctx.task_ids.append(task.id)


def get_and_find_tasks(ctx: Context) -> None:
    listed = list(ctx.client.get_tasks(pool_id=ctx.pool.id))
    assert sorted(task.id for task in listed) == sorted(ctx.task_ids), (len(listed), len(ctx.task_ids))
    page = ctx.client.find_tasks(pool_id=ctx.pool.id, sort=["-id"], limit=5)
    assert page.has_more and [task.id for task in page.items] == sorted(ctx.task_ids, reverse=True)[:5]
    later = ctx.client.find_tasks(pool_id=ctx.pool.id, id_gt=ctx.task_ids[SYNC_TASKS - 1], limit=100)
    assert len(later.items) == len(ctx.task_ids) - SYNC_TASKS and not later.has_more, later
    since = ctx.client.find_tasks(pool_id=ctx.pool.id, created_gte=listed[0].created, overlap=OVERLAP, limit=100)
    assert len(since.items) == len(ctx.task_ids), len(since.items)


def patch_task_overlap(ctx: Context) -> None:
    patched = ctx.client.patch_task(ctx.task_ids[0], overlap=OVERLAP - 1)
    assert patched.overlap == OVERLAP - 1, patched
    lowered = ctx.client.patch_task_overlap_or_min(ctx.task_ids[1], overlap=1)
    assert lowered.overlap == 1, lowered
    assert ctx.client.get_task(ctx.task_ids[1]).overlap == 1


SETUP_STEPS = [
    get_requester,
    create_project,
    update_project,
    create_skill,
    create_training,
    add_training_tasks_and_open_training,
    close_training,
    create_pool,
    clone_and_patch_pool,
    update_pool,
    close_pool_for_update_and_close_pool,
    create_tasks_sync,
    create_tasks_async,
    create_tasks_async_and_wait_operation,
    create_single_task,
    get_and_find_tasks,
    patch_task_overlap,
]
