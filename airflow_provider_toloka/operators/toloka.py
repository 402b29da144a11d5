"""Operators: one per user-visible Toloka step. They return ids for XCom, never payloads.

Errors that a retry cannot fix (bad input, configuration, a refused key, an unknown object, a
failed operation, a budget exceeded) fail the task at once; network errors, 5xx and 429 are left to
Airflow's retries, which are safe: every step finds what an earlier try of the same task instance made.

Dry runs (``dry_run=True`` on the operators that create or spend) check what they can, log what
would be done and what it would cost, and send no write request (only reads). XCom in a dry run:
create project and create pool return None (nothing was created), create tasks returns ``[]`` (no
operation), open pool returns the pool id and, like a real open with ``max_cost``, pushes the
estimate under the XCom key ``cost_estimate``.
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
    from airflow_provider_toloka.client.cost import CostEstimate

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

#: The XCom key under which the open pool operator pushes its cost estimate (a dict, see CostEstimate.as_dict).
COST_ESTIMATE_XCOM_KEY = "cost_estimate"

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
    def check_locally(kind: str, body: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
        """Validate a project or pool as the client would before sending it (for dry runs).

        :param ignore: fields whose errors do not count (e.g. a project id that a dry run could not make).
        """
        from airflow_provider_toloka.client.errors import TolokaValidationError
        from airflow_provider_toloka.client.models import pool_errors, project_errors
        from airflow_provider_toloka.client.validation import format_errors

        errors = (project_errors if kind == "project" else pool_errors)(body)
        errors = {key: value for key, value in errors.items() if key not in ignore}
        if errors:
            raise TolokaValidationError(f"Invalid {kind}: {format_errors(errors)}", errors)

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
    :param dry_run: validate and log the project that would be created; send nothing, return None.
    """

    template_fields: Sequence[str] = ("project_config", "toloka_conn_id")
    ui_color = "#c3e6cb"

    def __init__(self, *, project_config: dict[str, Any] | str, dry_run: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project_config = project_config
        self.is_dry_run = dry_run

    @fail_fast
    def execute(self, context: Context) -> str | None:
        config = load_config(self.project_config, "project_config", self.dag_folder(context))
        if self.is_dry_run:
            self.check_locally("project", config)
            self.log.info("Dry run: project %r is valid and would be created; nothing was sent", config["public_name"])
            return None
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
    :param dry_run: validate and log the pool that would be created and its cost per 1,000 tasks;
        send nothing, return None (a ``project_id`` of None, from a dry-run upstream, is accepted).
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
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.is_dry_run = dry_run
        self.pool_config = pool_config
        self.project_id = project_id
        self.will_expire = will_expire
        self.private_name = private_name
        self.pool_overrides = pool_overrides

    def build_pool(self, context: Context) -> dict[str, Any]:
        """The pool to create: the config with the overrides applied and the expiry made absolute."""
        config = load_config(self.pool_config, "pool_config", self.dag_folder(context))
        config.update(self.pool_overrides or {})
        if self.project_id is not None and not (self.is_dry_run and str(self.project_id) in ("", "None")):
            config["project_id"] = object_id(self.project_id, "project_id")
        if self.private_name:
            config["private_name"] = self.private_name
        will_expire = self.will_expire or config.get("will_expire")
        if will_expire:
            config["will_expire"] = expiry(will_expire)
        return config

    @fail_fast
    def execute(self, context: Context) -> str | None:
        pool_body = self.build_pool(context)
        if self.is_dry_run:
            self._dry_run(pool_body)
            return None
        pool = self.hook.client.create_pool(pool_body, idempotency_key=self.idempotency_key(context))
        self.log.info("Pool %s (%r) is ready in project %s", pool.id, pool.private_name, pool.project_id)
        self.link_to(context, project_id=pool.project_id, pool_id=str(pool.id))
        return str(pool.id)

    def _dry_run(self, pool_body: dict[str, Any]) -> None:
        from airflow_provider_toloka.client.cost import estimate_cost

        self.check_locally("pool", pool_body, ignore=() if pool_body.get("project_id") else ("project_id",))
        try:
            per_thousand = estimate_cost(pool_body, 1000).describe()
        except ValueError as exc:  # e.g. no default overlap: the tasks will set theirs
            per_thousand = f"no estimate without the tasks ({exc})"
        self.log.info(
            "Dry run: pool %r is valid and would be created in project %s; 1,000 tasks: %s. Nothing was sent",
            pool_body.get("private_name"),
            pool_body.get("project_id") or "(made by the upstream task)",
            per_thousand,
        )


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
    :param dry_run: read the tasks and log their number and, for an existing pool, what they would
        cost; send nothing, return ``[]`` (a ``pool_id`` of None, from a dry-run upstream, is accepted).
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
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.is_dry_run = dry_run
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

        if self.is_dry_run:
            return self._dry_run(context)
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

    def _dry_run(self, context: Context) -> list[str]:
        from airflow_provider_toloka.client.cost import OverlapTally, PoolPricing, estimate_from_tally

        tasks, source = self.task_source(context)
        overlap = optional_int(self.default_overlap, "default_overlap")
        if self.pool_id is None or str(self.pool_id) in ("", "None"):
            count = sum(1 for _ in tasks)
            self.log.info("Dry run: %s task(s) from %s would be uploaded; nothing was sent", count, source)
            return []
        pool_id = object_id(self.pool_id, "pool_id")
        pricing = PoolPricing.of(self.hook.client.get_pool(pool_id))
        tally = OverlapTally(default_overlap=overlap or pricing.default_overlap).add_all(tasks)
        estimate = estimate_from_tally(pricing, tally, fee_rate=self.hook.fee_rate, pool_id=pool_id)
        self.log.info("Dry run: tasks from %s would be uploaded; %s. Nothing was sent", source, estimate.describe())
        return []

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[str]:
        """Resume after the trigger: return the operation ids or fail with its message."""
        self.log.info("Upload finished: %s", raise_for_event(event))
        return list(event["operation_ids"])


class TolokaOpenPoolOperator(TolokaBaseOperator):
    """Opens a pool and waits for it to be open; already open counts as success. Returns the pool id.

    With ``max_cost``, what the pool still has to spend is estimated first (its tasks as uploaded,
    see :mod:`airflow_provider_toloka.client.cost`) and checked against ``max_cost`` and the
    requester's balance: over either, the task fails at once, naming the estimate, the limit and
    the balance, and the pool stays closed. The estimate is logged and pushed to XCom under the
    key ``cost_estimate``. A pool that is already open is not checked (nothing is decided there).

    :param pool_id: the pool (templated, or ``create_pool.output``).
    :param max_cost: the most the pool may spend, reward plus fee (templated; None: no check).
    :param fee_rate: the platform fee as a fraction of the reward, for the estimate (templated;
        default: the connection extra ``fee_rate``, else 0.3).
    :param dry_run: estimate and check as above, log that the pool would be opened, open nothing
        (the balance is checked even without ``max_cost``); returns the pool id.
    :param close_pool_on_kill: close the pool when this task is killed or times out while it runs
        (``on_kill``: marked failed or cleared in the UI, ``execution_timeout``), so no pool is
        left spending unwatched; while deferred, on Airflow 3.3+ (trigger ``on_kill``). Off by
        default: a pool, once open, keeps running on its own.
    :param deferrable: wait for POOL.OPEN in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: seconds between polls when waiting.
    :param timeout: seconds to wait for the POOL.OPEN operation.
    """

    template_fields: Sequence[str] = ("pool_id", "max_cost", "fee_rate", "toloka_conn_id")
    ui_color = "#c3e6cb"

    def __init__(
        self,
        *,
        pool_id: str,
        max_cost: float | str | None = None,
        fee_rate: float | str | None = None,
        dry_run: bool = False,
        close_pool_on_kill: bool = False,
        deferrable: bool = default_deferrable(),
        poll_interval: float = 2.0,
        timeout: float = 600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_id = pool_id
        self.max_cost = max_cost
        self.fee_rate = fee_rate
        self.is_dry_run = dry_run
        self.close_pool_on_kill = close_pool_on_kill
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._opening: str | None = None

    @fail_fast
    def execute(self, context: Context) -> str:
        from airflow_provider_toloka.client.cost import money_of

        pool_id = object_id(self.pool_id, "pool_id")
        max_cost = money_of(self.max_cost, "max_cost")
        if max_cost is not None or self.is_dry_run:
            self.check_spending(context, pool_id, max_cost)
        if self.is_dry_run:
            self.log.info("Dry run: pool %s would be opened; nothing was sent", pool_id)
            return pool_id
        self._opening = pool_id
        operation = self.hook.client.open_pool(pool_id)
        if operation is None:
            self.log.info("Pool %s is already open", pool_id)
        else:
            self.log.info("Opening pool %s (operation %s)", pool_id, operation.id)
            self.wait_for_operations(
                [operation.id],
                timeout=self.timeout,
                poll_interval=self.poll_interval,
                deferrable=self.deferrable,
                close_pool_on_kill=self.close_pool_on_kill,
            )
        return self._opened(context, pool_id)

    def check_spending(self, context: Context, pool_id: str, max_cost: float | None) -> CostEstimate | None:
        """Estimate what opening the pool would spend and refuse it over ``max_cost`` or the balance.

        :return: the estimate, or None for a pool that is open already.
        :raises TolokaBudgetError: over the limit or the balance; nothing was opened.
        """
        from airflow_provider_toloka.client.cost import check_budget

        client = self.hook.client
        if client.get_pool(pool_id).status == "OPEN":
            self.log.info("Pool %s is open already: no spending check", pool_id)
            return None
        estimate = self.hook.estimate_pool_cost(pool_id, fee_rate=self.fee_rate)
        balance = client.get_requester().get("balance")
        balance = float(balance) if isinstance(balance, (int, float)) else None
        context["ti"].xcom_push(key=COST_ESTIMATE_XCOM_KEY, value={**estimate.as_dict(), "balance": balance})
        self.log.info("Opening %s (limit %s, balance %s)", estimate.describe(), max_cost, balance)
        check_budget(estimate, max_cost=max_cost, balance=balance)
        return estimate

    def on_kill(self) -> None:
        """With ``close_pool_on_kill``, close the pool this task was opening (errors are logged, not raised)."""
        if self.close_pool_on_kill and self._opening:
            self.close_pools_on_kill([self._opening])

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


#: The results operators live in ``operators.results``; they are importable from here too (loaded on first use).
RESULTS_OPERATORS = (
    "TolokaAggregateOperator",
    "TolokaClosePoolOperator",
    "TolokaGetAssignmentsOperator",
    "TolokaReviewAssignmentsOperator",
)


def __getattr__(name: str) -> Any:
    if name in RESULTS_OPERATORS:
        from airflow_provider_toloka.operators import results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
