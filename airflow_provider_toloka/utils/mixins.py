"""What every Toloka operator and sensor shares: the connection, the cached hook, and failing fast."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_toloka.client.models import Operation
    from airflow_provider_toloka.hooks.toloka import TolokaHook

F = TypeVar("F", bound=Callable[..., Any])

#: Seconds that Airflow's deferral timeout allows past the trigger's own.
DEFERRAL_GRACE_SECONDS = 60


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable`` (False when unset)."""
    from airflow.providers.common.compat.sdk import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


def opened_pool_id(operation: Operation) -> str | None:
    """The pool a POOL.OPEN operation opens (None for other operations)."""
    pool_id = (operation.parameters or {}).get("pool_id") if operation.type == "POOL.OPEN" else None
    return str(pool_id) if pool_id else None


def fail_fast(method: F) -> F:
    """Fail the task at once, without Airflow's retries, on errors that a retry cannot fix.

    Local validation, configuration, refused keys, unknown objects, the API's 4xx answers and
    failed operations become ``AirflowFailException`` (raised from the original, message kept);
    network errors, 5xx and 429 stay retryable.
    """

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from airflow_provider_toloka.client.errors import is_permanent

        try:
            return method(*args, **kwargs)
        except Exception as exc:
            if not is_permanent(exc):
                raise
            from airflow.providers.common.compat.sdk import AirflowFailException

            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return wrapper  # type: ignore[return-value]


class TolokaHookMixin:
    """The connection id and a hook built on first use, for operators and sensors.

    Each class lists ``toloka_conn_id`` in its own ``template_fields``.

    :param toloka_conn_id: the Toloka connection.
    """

    def __init__(self, *, toloka_conn_id: str = "toloka_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.toloka_conn_id = toloka_conn_id

    @cached_property
    def hook(self) -> TolokaHook:
        """The Toloka hook of ``toloka_conn_id``; use ``self.hook.client`` for the API."""
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        return TolokaHook(self.toloka_conn_id)

    def link_to(
        self,
        context: Context,
        *,
        project_id: str | None = None,
        pool_id: str | None = None,
        operation_id: str | None = None,
    ) -> None:
        """Point the task's "Toloka" extra link at the page of what it made or waits on."""
        from airflow_provider_toloka.links.toloka import TolokaLink

        base_url = self.hook.client.config.base_url
        TolokaLink.persist(
            context, base_url=base_url, project_id=project_id, pool_id=pool_id, operation_id=operation_id
        )

    def close_pools_on_kill(self, pool_ids: list[str]) -> None:
        """Close pools from ``on_kill``: one bounded attempt each, errors logged and never raised.

        Called when a task that opened or waits on a pool is killed, so the pool does not go on
        spending unwatched. Closing a closed pool does nothing.
        """
        log = self.log  # type: ignore[attr-defined]
        for pool_id in pool_ids:
            try:
                self.hook.client.close_pool(pool_id)
            except Exception as exc:
                log.warning("The task was killed but pool %s could not be closed: %s", pool_id, exc)
            else:
                log.warning("The task was killed: closed pool %s (close_pool_on_kill=True)", pool_id)

    def pools_opened_by(self, operation_ids: list[str]) -> list[str]:
        """The pools that the POOL.OPEN operations among ``operation_ids`` open (unreadable ones are logged)."""
        pools = []
        for operation_id in operation_ids:
            try:
                pool_id = opened_pool_id(self.hook.client.get_operation(operation_id))
            except Exception as exc:
                self.log.warning("Cannot read operation %s: %s", operation_id, exc)  # type: ignore[attr-defined]
                continue
            if pool_id:
                pools.append(pool_id)
        return pools

    def wait_for_operations(
        self,
        operation_ids: list[str],
        *,
        timeout: float,
        poll_interval: float,
        deferrable: bool,
        close_pool_on_kill: bool = False,
    ) -> dict[str, int]:
        """Wait for operations to succeed and return their summed counts.

        Polls once first; what is not done yet is waited for in the triggerer when ``deferrable``
        (the task resumes in ``execute_complete``), else here.
        """
        from airflow_provider_toloka.client.operations import OperationTracker

        tracker = self.hook.client.poll_operations(OperationTracker(operation_ids))
        if not tracker.done and deferrable:
            self.defer_for_operations(
                operation_ids, timeout=timeout, poll_interval=poll_interval, close_pool_on_kill=close_pool_on_kill
            )
        if not tracker.done:
            tracker = self.hook.client.wait_operations(operation_ids, timeout=timeout, poll_interval=poll_interval)
        return tracker.totals()

    def defer_for_operations(
        self, operation_ids: list[str], *, timeout: float, poll_interval: float, close_pool_on_kill: bool = False
    ) -> None:
        """Hand the wait for operations to the triggerer (see :meth:`defer_to_trigger`).

        With ``close_pool_on_kill``, the trigger closes the pools its POOL.OPEN operations open
        when the task is killed while deferred (Airflow 3.3+ calls trigger ``on_kill``).
        """
        from airflow_provider_toloka.triggers.toloka import TolokaOperationTrigger

        self.log.info("Deferring: waiting for %s operation(s) in the triggerer", len(operation_ids))  # type: ignore[attr-defined]
        self.defer_to_trigger(
            TolokaOperationTrigger(
                operation_ids,
                self.toloka_conn_id,
                poll_interval,
                time.time() + timeout,
                close_pool_on_kill=close_pool_on_kill,
            ),
            timeout,
        )

    def defer_to_trigger(self, trigger: BaseTrigger, timeout: float) -> None:
        """Hand the wait to the triggerer; the task resumes in ``execute_complete(context, event)``.

        The trigger (whose ``end_time`` is ``timeout`` from now) times out first, so its message
        reaches the task; Airflow's own deferral timeout, a little later, is only the backstop for a
        triggerer that is down.
        """
        self.defer(  # type: ignore[attr-defined]
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=timeout + DEFERRAL_GRACE_SECONDS),
        )
