"""Operators: one per user-visible Toloka step. They return ids for XCom, never payloads."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, conf

from airflow_provider_toloka.common import expiry, load_config, raise_for_event, resolve_path
from airflow_provider_toloka.links.toloka import TOLOKA_URL_XCOM_KEY, TolokaLink, web_url

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_toloka.hooks.toloka import TolokaHook


class TolokaBaseOperator(BaseOperator):
    """What every Toloka operator shares: the connection, the hook and the retry-safe identity.

    :param toloka_conn_id: the Toloka connection.
    """

    operator_extra_links = (TolokaLink(),)

    def __init__(self, *, toloka_conn_id: str = "toloka_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.toloka_conn_id = toloka_conn_id

    @cached_property
    def hook(self) -> TolokaHook:
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        return TolokaHook(self.toloka_conn_id)

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

    def link_to(self, context: Context, project_id: str, pool_id: str | None = None) -> None:
        """Remember the Toloka web page of what this task made, for the task's extra link."""
        url = web_url(self.hook.client.config.base_url, project_id, pool_id)
        context["ti"].xcom_push(key=TOLOKA_URL_XCOM_KEY, value=url)


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

    def execute(self, context: Context) -> str:
        config = load_config(self.project_config, "project_config", self.dag_folder(context))
        project = self.hook.create_project(config, idempotency_key=self.idempotency_key(context))
        self.log.info("Project %s (%r) is ready", project.id, project.public_name)
        self.link_to(context, str(project.id))
        return str(project.id)


class TolokaCreatePoolOperator(TolokaBaseOperator):
    """Validates a pool locally and creates it; returns its id.

    :param pool_config: the pool as a dict, a JSON string or a path to a .json file (templated).
        Not ``pool``: that is the Airflow pool the task runs in.
    :param project_id: overrides the pool's ``project_id`` (templated, or ``create_project.output``).
    :param will_expire: overrides ``will_expire``: a datetime, an ISO string or relative such as ``"+7d"``.
    :param private_name: overrides ``private_name`` (templated, e.g. ``"Batch {{ ds }}"``).
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
        if self.project_id:
            config["project_id"] = str(self.project_id)
        if self.private_name:
            config["private_name"] = self.private_name
        will_expire = self.will_expire or config.get("will_expire")
        if will_expire:
            config["will_expire"] = expiry(will_expire)
        return config

    def execute(self, context: Context) -> str:
        pool_body = self.build_pool(context)
        pool = self.hook.create_pool(pool_body, idempotency_key=self.idempotency_key(context))
        self.log.info("Pool %s (%r) is ready in project %s", pool.id, pool.private_name, pool.project_id)
        self.link_to(context, pool.project_id, str(pool.id))
        return str(pool.id)


class TolokaCreateTasksOperator(TolokaBaseOperator):
    """Uploads tasks to a pool in async batches, exactly once; returns the operation ids.

    The tasks are checked against the project's input_spec before the first batch is sent. Each
    batch's operation id derives from the task instance (dag, task, run, pool) and the batch, so
    an Airflow retry re-sends only what did not arrive and never duplicates a task.

    :param pool_id: the pool (templated, or ``create_pool.output``).
    :param tasks: a list of task dicts (full tasks or bare input_values), or a path to a .json or
        .jsonl file (templated, e.g. ``"/data/{{ ds }}.jsonl"``), streamed and never loaded whole.
    :param default_overlap: overlap for tasks that do not set one (templated).
    :param batch_size: tasks per TASK.BATCH_CREATE operation, at most 100,000 (templated).
    :param allow_defaults: use the pool's default overlap.
    :param skip_invalid_items: create the valid tasks and skip the invalid ones instead of failing.
    :param open_pool: open the pool once the upload succeeds.
    :param wait_for_completion: wait for the operations here (deferred if ``deferrable``).
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
        open_pool: bool = False,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
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
        self.open_pool = open_pool
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout

    def task_source(self, context: Context) -> tuple[Any, str]:
        """A fresh iterable of the tasks and its name for messages (a file is reopened each time)."""
        from airflow_provider_toloka.client.errors import TolokaValidationError
        from airflow_provider_toloka.client.files import iter_task_file

        if isinstance(self.tasks, str):
            path = resolve_path(self.tasks, self.dag_folder(context))
            if path is None:
                raise TolokaValidationError(f"tasks: file {self.tasks!r} not found")
            return _Reopen(iter_task_file, path), path
        if isinstance(self.tasks, (list, tuple)):
            return self.tasks, "tasks"
        raise TolokaValidationError(
            f"tasks must be a list of task dicts or a file path, got {type(self.tasks).__name__}"
        )

    def execute(self, context: Context) -> list[str]:
        pool_id = str(self.pool_id)
        tasks, source = self.task_source(context)
        upload = {
            "default_overlap": int(self.default_overlap) if self.default_overlap not in (None, "") else None,
            "skip_invalid_items": self.skip_invalid_items,
            "source": source,
        }
        checked = self.hook.client.check_tasks(tasks, pool_id, **upload)
        self.log.info("Checked %s tasks from %s against the project's input_spec", checked, source)
        result = self.hook.create_tasks(
            tasks,
            pool_id,
            idempotency_key=self.idempotency_key(context, pool_id),
            batch_size=int(self.batch_size),
            allow_defaults=self.allow_defaults,
            open_pool=self.open_pool,
            validate=self.skip_invalid_items,  # checked above; when skipping, drop the invalid ones
            total=checked,
            **upload,
        )
        self.log.info(
            "Sent %s tasks to pool %s as %s operation(s): %s",
            result.tasks_sent,
            pool_id,
            len(result.operation_ids),
            result.operation_ids,
        )
        if result.invalid_count:
            self.log.warning(
                "Skipped %s invalid task(s); first: %s",
                result.invalid_count,
                dict(list(result.validation_errors.items())[:3]),
            )
        pool = self.hook.get_pool(pool_id)
        self.link_to(context, pool.project_id, pool_id)
        if self.wait_for_completion and result.operation_ids:
            return self._wait(result.operation_ids)
        return result.operation_ids

    def _wait(self, operation_ids: list[str]) -> list[str]:
        if self.deferrable:
            from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger

            self.defer(
                trigger=TolokaOperationTrigger(
                    operation_ids, self.toloka_conn_id, self.poll_interval, time.time() + self.timeout
                ),
                method_name="execute_complete",
                kwargs={"operation_ids": operation_ids},
                timeout=timedelta(seconds=self.timeout),
            )
        for operation_id in operation_ids:
            self.hook.wait_operation(operation_id, timeout=self.timeout, poll_interval=self.poll_interval)
        self.log.info("All %s operation(s) succeeded", len(operation_ids))
        return operation_ids

    def execute_complete(self, context: Context, event: dict[str, Any], operation_ids: list[str]) -> list[str]:
        """Resume after the trigger: return the operation ids or fail with its message."""
        self.log.info("Upload finished: %s", raise_for_event(event))
        return operation_ids


class TolokaOpenPoolOperator(TolokaBaseOperator):
    """Opens a pool and waits for it to be open; already open counts as success. Returns the pool id.

    :param pool_id: the pool (templated, or ``create_pool.output``).
    :param timeout: seconds to wait for the POOL.OPEN operation.
    """

    template_fields: Sequence[str] = ("pool_id", "toloka_conn_id")
    ui_color = "#c3e6cb"

    def __init__(self, *, pool_id: str, timeout: float = 600.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.timeout = timeout

    def execute(self, context: Context) -> str:
        pool_id = str(self.pool_id)
        operation = self.hook.open_pool(pool_id)
        if operation is None:
            self.log.info("Pool %s is already open", pool_id)
        else:
            self.log.info("Opening pool %s (operation %s)", pool_id, operation.id)
            self.hook.wait_operation(operation.id, timeout=self.timeout, poll_interval=2.0)
        pool = self.hook.get_pool(pool_id)
        self.log.info("Pool %s is %s", pool_id, pool.status)
        self.link_to(context, pool.project_id, pool_id)
        return pool_id


class _Reopen:
    """An iterable that calls ``opener(*args)`` anew for each pass, so a file can be read twice."""

    def __init__(self, opener: Any, *args: Any) -> None:
        self.opener = opener
        self.args = args

    def __iter__(self) -> Iterator[Any]:
        return iter(self.opener(*self.args))
