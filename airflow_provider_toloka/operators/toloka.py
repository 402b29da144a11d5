"""Operators: one per user-visible Toloka step. They return ids for XCom, never payloads.

Errors that a retry cannot fix (bad input, configuration, a refused key, an unknown object, a
failed operation) fail the task at once; network errors, 5xx and 429 are left to Airflow's retries,
which are safe: every step finds what an earlier try of the same task instance made.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_toloka.links.toloka import TolokaLink
from airflow_provider_toloka.triggers.toloka import raise_for_event
from airflow_provider_toloka.utils.mixins import TolokaHookMixin, default_deferrable, fail_fast
from airflow_provider_toloka.utils.params import expiry, load_config, object_id, optional_int, task_file

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

#: Above this many tasks given as a list (stored in Airflow's database when it comes through XCom), advise a file.
LARGE_TASK_LIST = 10_000


class TolokaBaseOperator(TolokaHookMixin, BaseOperator):
    """What every Toloka operator shares: the connection, the hook, the link and the retry-safe identity.

    :param toloka_conn_id: the Toloka connection (templated).
    """

    operator_extra_links = (TolokaLink(),)

    @staticmethod
    def idempotency_key(context: Context, *parts: Any) -> str:
        """The task instance's identity (the same on every retry), plus ``parts``."""
        ti = context["ti"]
        identity = [ti.dag_id, ti.task_id, ti.run_id]
        if getattr(ti, "map_index", -1) not in (-1, None):
            identity.append(f"map{ti.map_index}")
        return "/".join(str(part) for part in (*identity, *parts))

    @staticmethod
    def dag_folder(context: Context) -> str | None:
        """The folder of the DAG file, where relative paths are looked up first."""
        dag = context.get("dag")
        fileloc = getattr(dag, "fileloc", None)
        return os.path.dirname(fileloc) if fileloc else None


class TolokaCreateProjectOperator(TolokaBaseOperator):
    """Validates a project locally and creates it; returns its id.

    A retry of the same task instance finds the project the first try created (by a tag in its
    ``metadata``) instead of creating another.

    :param project_config: the project as a dict, a JSON string or a path to a .json file (templated).
    """

    template_fields: Sequence[str] = ("project_config", "toloka_conn_id")
    ui_color = "#c3e6cb"

    def __init__(self, *, project_config: dict[str, Any] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project_config = project_config

    @fail_fast
    def execute(self, context: Context) -> str:
        config = load_config(self.project_config, "project_config", self.dag_folder(context))
        project = self.hook.client.create_project(config, idempotency_key=self.idempotency_key(context))
        self.log.info("Project %s (%r) is ready", project.id, project.public_name)
        self.link_to(context, project_id=str(project.id))
        return str(project.id)


class TolokaCreatePoolOperator(TolokaBaseOperator):
    """Validates a pool locally and creates it; returns its id.

    :param pool_config: the pool as a dict, a JSON string or a path to a .json file (templated).
        Not ``pool``: that is the Airflow pool the task runs in.
    :param project_id: overrides the pool's ``project_id`` (templated, or ``create_project.output``).
    :param will_expire: overrides ``will_expire``: a datetime, an ISO string or relative such as ``"+7d"``.
    :param private_name: overrides ``private_name`` (templated, e.g. ``"Batch {{ dag_run.run_after | ds }}"``).
    :param pool_overrides: more top-level fields to override (templated), e.g.
        ``{"reward_per_assignment": "{{ params.reward }}"}``.
    """

    template_fields: Sequence[str] = (
        "pool_config",
        "project_id",
        "will_expire",
        "private_name",
        "pool_overrides",
        "toloka_conn_id",
    )
    ui_color = "#c3e6cb"

    def __init__(
        self,
        *,
        pool_config: dict[str, Any] | str,
        project_id: str | None = None,
        will_expire: str | datetime | None = None,
        private_name: str | None = None,
        pool_overrides: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_config = pool_config
        self.project_id = project_id
        self.will_expire = will_expire
        self.private_name = private_name
        self.pool_overrides = pool_overrides

    def build_pool(self, context: Context) -> dict[str, Any]:
        """The pool to create: the config with the overrides applied and the expiry made absolute."""
        config = load_config(self.pool_config, "pool_config", self.dag_folder(context))
        config.update(self.pool_overrides or {})
        if self.project_id is not None:
            config["project_id"] = object_id(self.project_id, "project_id")
        if self.private_name:
            config["private_name"] = self.private_name
        will_expire = self.will_expire or config.get("will_expire")
        if will_expire:
            config["will_expire"] = expiry(will_expire)
        return config

    @fail_fast
    def execute(self, context: Context) -> str:
        pool_body = self.build_pool(context)
        pool = self.hook.client.create_pool(pool_body, idempotency_key=self.idempotency_key(context))
        self.log.info("Pool %s (%r) is ready in project %s", pool.id, pool.private_name, pool.project_id)
        self.link_to(context, project_id=pool.project_id, pool_id=str(pool.id))
        return str(pool.id)


class TolokaCreateTasksOperator(TolokaBaseOperator):
    """Uploads tasks to a pool in async batches, exactly once; returns the operation ids.

    Every task is checked against the project's input_spec before the first batch is sent. Each
    batch's operation id derives from the task instance (dag, task, run, pool) and the batch, so
    an Airflow retry re-sends only what did not arrive and never duplicates a task.

    :param pool_id: the pool (templated, or ``create_pool.output``).
    :param tasks: a list of task dicts (full tasks or bare input_values), or a .json or .jsonl file
        (templated): a local path, or a URL that Airflow's ObjectStoragePath reads (``s3://...``,
        ``file://...``), streamed and never loaded whole. Prefer files to large lists: a list that
        comes through XCom is stored in Airflow's database.
    :param default_overlap: overlap for tasks that do not set one (templated).
    :param batch_size: tasks per TASK.BATCH_CREATE operation, at most 100,000 (templated).
    :param allow_defaults: use the pool's default overlap.
    :param skip_invalid_items: create the valid tasks and skip the invalid ones instead of failing.
    :param allow_empty: succeed when there are no tasks to send (by default that fails, naming the input).
    :param open_pool: open the pool once the upload succeeds.
    :param wait_for_completion: wait for the operations here (deferred if ``deferrable``).
    :param deferrable: wait in the triggerer (default: Airflow's ``[operators] default_deferrable``).
    :param poll_interval: seconds between polls when waiting.
    :param timeout: seconds to wait at most when waiting.
    """

    template_fields: Sequence[str] = ("pool_id", "tasks", "default_overlap", "batch_size", "toloka_conn_id")
    ui_color = "#c3e6cb"

    def __init__(
        self,
        *,
        pool_id: str,
        tasks: list[dict[str, Any]] | str,
        default_overlap: int | str | None = None,
        batch_size: int | str = 10_000,
        allow_defaults: bool = False,
        skip_invalid_items: bool = False,
        allow_empty: bool = False,
        open_pool: bool = False,
        wait_for_completion: bool = False,
        deferrable: bool = default_deferrable(),
        poll_interval: float = 10.0,
        timeout: float = 24 * 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.tasks = tasks
        self.default_overlap = default_overlap
        self.batch_size = batch_size
        self.allow_defaults = allow_defaults
        self.skip_invalid_items = skip_invalid_items
        self.allow_empty = allow_empty
        self.open_pool = open_pool
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout

    def task_source(self, context: Context) -> tuple[Any, str]:
        """The tasks as a re-iterable source (a file is streamed anew on each pass) and its name."""
        from airflow_provider_toloka.client.errors import TolokaValidationError
        from airflow_provider_toloka.client.files import TaskFile

        if isinstance(self.tasks, str):
            source = TaskFile(task_file(self.tasks, self.dag_folder(context)))
            return source, str(source)
        if isinstance(self.tasks, (list, tuple)):
            if len(self.tasks) > LARGE_TASK_LIST:
                self.log.warning(
                    "%s tasks were given as a list; through XCom such a list is stored in Airflow's database. "
                    "Write them to a .jsonl file (local or object storage) and pass its path instead",
                    len(self.tasks),
                )
            return self.tasks, "tasks"
        raise TolokaValidationError(
            f"tasks must be a list of task dicts or a file path, got {type(self.tasks).__name__}"
        )

    @fail_fast
    def execute(self, context: Context) -> list[str]:
        from airflow_provider_toloka.client.errors import TolokaValidationError

        pool_id = object_id(self.pool_id, "pool_id")
        tasks, source = self.task_source(context)
        result = self.hook.client.create_tasks(
            tasks,
            pool_id,
            idempotency_key=self.idempotency_key(context, pool_id),
            batch_size=optional_int(self.batch_size, "batch_size"),
            default_overlap=optional_int(self.default_overlap, "default_overlap"),
            allow_defaults=self.allow_defaults,
            skip_invalid_items=self.skip_invalid_items,
            open_pool=self.open_pool,
            source=source,
        )
        if result.invalid_count:
            first = dict(list(result.validation_errors.items())[:3])
            self.log.warning("Skipped %s invalid task(s); first: %s", result.invalid_count, first)
        if not result.tasks_sent and not result.tasks_already_present and not self.allow_empty:
            raise TolokaValidationError(f"{source} holds no tasks to upload (set allow_empty=True to accept that)")
        self.log.info(
            "Sent %s tasks to pool %s as %s operation(s): %s",
            result.tasks_sent,
            pool_id,
            len(result.operation_ids),
            result.operation_ids,
        )
        self.link_to(context, project_id=self.hook.client.get_pool(pool_id).project_id, pool_id=pool_id)
        if self.wait_for_completion and result.operation_ids:
            totals = self.wait_for_operations(
                result.operation_ids, timeout=self.timeout, poll_interval=self.poll_interval, deferrable=self.deferrable
            )
            self.log.info("All %s operation(s) succeeded: %s", len(result.operation_ids), totals)
        return result.operation_ids

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """Resume after the trigger: return the operation ids or fail with its message."""
        self.log.info("Upload finished: %s", raise_for_event(event))
        return list(event["operation_ids"])


class TolokaOpenPoolOperator(TolokaBaseOperator):
    """Opens a pool and waits for it to be open; already open counts as success. Returns the pool id.

    :param pool_id: the pool (templated, or ``create_pool.output``).
    :param deferrable: wait for POOL.OPEN in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between polls when waiting.
    :param timeout: seconds to wait for the POOL.OPEN operation.
    """

    template_fields: Sequence[str] = ("pool_id", "toloka_conn_id")
    ui_color = "#c3e6cb"

    def __init__(
        self,
        *,
        pool_id: str,
        deferrable: bool = default_deferrable(),
        poll_interval: float = 2.0,
        timeout: float = 600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout

    @fail_fast
    def execute(self, context: Context) -> str:
        pool_id = object_id(self.pool_id, "pool_id")
        operation = self.hook.client.open_pool(pool_id)
        if operation is None:
            self.log.info("Pool %s is already open", pool_id)
        else:
            self.log.info("Opening pool %s (operation %s)", pool_id, operation.id)
            self.wait_for_operations(
                [operation.id], timeout=self.timeout, poll_interval=self.poll_interval, deferrable=self.deferrable
            )
        return self._opened(context, pool_id)

    @fail_fast
    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the trigger: the pool is open, or fail with the trigger's message."""
        raise_for_event(event)
        return self._opened(context, object_id(self.pool_id, "pool_id"))

    def _opened(self, context: Context, pool_id: str) -> str:
        pool = self.hook.client.get_pool(pool_id)
        self.log.info("Pool %s is %s", pool_id, pool.status)
        self.link_to(context, project_id=pool.project_id, pool_id=pool_id)
        return pool_id
