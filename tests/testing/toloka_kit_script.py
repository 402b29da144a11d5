"""Drive the emulator with the official client, toloka-kit (run by its own interpreter).

Usage: ``$TOLOKA_KIT_PYTHON toloka_kit_script.py URL TOKEN``; prints ``OK`` when every step worked.
Not collected by pytest: ``test_emulator_toloka_kit.py`` runs it when TOLOKA_KIT_PYTHON is set.
"""

from __future__ import annotations

import datetime
import sys

import toloka.client as toloka
from toloka.client.project.field_spec import StringSpec, UrlSpec
from toloka.client.project.task_spec import TaskSpec
from toloka.client.project.view_spec import ClassicViewSpec


def main(url: str, token: str) -> None:
    client = toloka.TolokaClient(token, url=url, retries=0)
    requester = client.get_requester()
    assert requester.id, requester

    project = client.create_project(
        toloka.Project(
            public_name="Categories of shoes",
            public_description="Look at the picture and determine the category of shoes",
            task_spec=TaskSpec(
                input_spec={"image": UrlSpec()},
                output_spec={"result": StringSpec(allowed_values=["boots", "sneakers", "other"])},
                view_spec=ClassicViewSpec(script="exports = {}", markup="<p>{{img src=image}}</p>", styles=""),
            ),
        )
    )
    assert project.id and project.status == toloka.Project.ProjectStatus.ACTIVE, project

    pool = client.create_pool(
        toloka.Pool(
            project_id=project.id,
            private_name="Shoes pool",
            may_contain_adult_content=False,
            will_expire=datetime.datetime.utcnow() + datetime.timedelta(days=1),
            reward_per_assignment=0.02,
            assignment_max_duration_seconds=60,
            defaults=toloka.Pool.Defaults(default_overlap_for_new_task_suites=3),
        )
    )
    assert pool.id and pool.status == toloka.Pool.Status.CLOSED, pool

    tasks = [toloka.Task(pool_id=pool.id, input_values={"image": f"https://example.com/{n}.jpg"}) for n in range(25)]
    result = client.create_tasks(tasks, async_mode=True, allow_defaults=True)
    assert len(result.items) == 25 and not result.validation_errors, result
    assert {task.overlap for task in result.items.values()} == {3}

    opened = client.open_pool(pool.id)  # waits for the POOL.OPEN operation
    assert opened.status == toloka.Pool.Status.OPEN, opened
    assert client.open_pool_async(pool.id) is None  # 204: already open

    closing = client.wait_operation(client.close_pool_async(pool.id))
    assert closing.status == toloka.operations.Operation.Status.SUCCESS, closing
    closed = client.get_pool(pool.id)
    assert closed.status == toloka.Pool.Status.CLOSED and closed.last_close_reason == toloka.Pool.CloseReason.MANUAL

    listed = list(client.get_tasks(pool_id=pool.id))
    assert sorted(task.id for task in listed) == sorted(task.id for task in result.items.values())
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
