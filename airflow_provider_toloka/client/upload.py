"""Uploading tasks: validation before the first request, batching, exactly-once resume of a retry.

:class:`TaskUploadMixin` is the tasks part of :class:`~airflow_provider_toloka.client.client.TolokaClient`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_toloka.client.batching import Batch, TaskBatcher, scoped_upload_key, upload_operation_id
from airflow_provider_toloka.client.errors import TolokaConflictError, TolokaRateLimitError, TolokaValidationError
from airflow_provider_toloka.client.files import is_reiterable
from airflow_provider_toloka.client.models import Operation
from airflow_provider_toloka.client.operations import ITEM_INDEX_TAG
from airflow_provider_toloka.client.progress import UploadProgress
from airflow_provider_toloka.client.resume import EarlierUpload, TaskMultiset, UploadReader
from airflow_provider_toloka.client.validation import Error, InputValidator

if TYPE_CHECKING:
    from airflow_provider_toloka.client.client import TolokaClient
    from airflow_provider_toloka.client.http import HttpTransport
    from airflow_provider_toloka.client.logger import LoggerLike
    from airflow_provider_toloka.client.models import Pool, Project
    from airflow_provider_toloka.client.operations import OperationTracker

MAX_ASYNC_BATCH = 100_000
MAX_SYNC_BATCH = 5_000
DEFAULT_ASYNC_BATCH = 10_000


@dataclass
class UploadResult:
    """What an upload did.

    :param operation_ids: TASK.BATCH_CREATE operation ids (async mode), in batch order.
    :param tasks_sent: tasks sent to the API.
    :param task_ids: created task ids (sync mode), in the caller's order.
    :param validation_errors: caller's task index -> field errors (skipped tasks; at most 1,000 kept).
    :param invalid_count: how many tasks were invalid in all.
    :param operations: the finished operations, when the upload waited for them.
    :param tasks_already_present: input tasks not sent because earlier tries of the upload created them.
    """

    operation_ids: list[str] = field(default_factory=list)
    tasks_sent: int = 0
    task_ids: list[str] = field(default_factory=list)
    validation_errors: dict[int, dict[str, Error]] = field(default_factory=dict)
    invalid_count: int = 0
    operations: list[Operation] = field(default_factory=list)
    tasks_already_present: int = 0


def _with_upload_state(exc: TolokaRateLimitError, result: UploadResult, key: str | None) -> TolokaRateLimitError:
    """``exc`` with what the upload had sent when a quota stopped it, and how to go on."""
    again = (
        "run it again with the same idempotency key once the quota has reset: it sends only the rest"
        if key is not None
        else "without an idempotency key, a new run sends everything again"
    )
    return TolokaRateLimitError(
        exc.status,
        exc.code,
        f"{exc.message}. This upload had sent {result.tasks_sent} task(s) in {len(result.operation_ids)} "
        f"operation(s) before; {again}",
        exc.request_id,
        exc.payload,
        exc.method,
        exc.path,
    )


def _flag(value: bool) -> str:
    return "true" if value else "false"


class TaskUploadMixin:
    """Validating and uploading tasks; mixed into :class:`TolokaClient`, whose transport it uses."""

    if TYPE_CHECKING:  # what the mixin uses of TolokaClient
        http: HttpTransport
        log: LoggerLike
        _validators: dict[str, InputValidator]

        def get_project(self, project_id: str) -> Project: ...
        def get_pool(self, pool_id: str) -> Pool: ...
        def get_operation(self, operation_id: str) -> Operation: ...
        def wait_operations(
            self, operation_ids: Iterable[str], timeout: float = ..., poll_interval: float = ...
        ) -> OperationTracker: ...

    def validator_for_pool(self, pool_id: str) -> InputValidator:
        """The input validator of the pool's project (read once per pool, then cached)."""
        validator = self._validators.get(pool_id)
        if validator is None:
            project = self.get_project(self.get_pool(pool_id).project_id)
            spec = {name: f.model_dump(exclude_none=True) for name, f in project.task_spec.input_spec.items()}
            validator = self._validators[pool_id] = InputValidator(spec)
        return validator

    def _batcher(
        self,
        pool_id: str | None,
        *,
        batch_size: int = DEFAULT_ASYNC_BATCH,
        default_overlap: int | None = None,
        validate: bool = True,
        skip_invalid_items: bool = False,
        source: str = "tasks",
        already_present: Callable[[dict[str, Any]], bool] | None = None,
        index_tag: str | None = None,
    ) -> TaskBatcher:
        return TaskBatcher(
            batch_size=batch_size,
            pool_id=pool_id,
            default_overlap=default_overlap,
            validator_for=self.validator_for_pool if validate else None,
            skip_invalid_items=skip_invalid_items,
            source=source,
            already_present=already_present,
            index_tag=index_tag,
        )

    def _pool_sets_task_overlap(self, pool_id: str) -> bool:
        """Whether the pool has ``defaults.default_overlap_for_new_tasks`` (read once per pool, then cached)."""
        cache: dict[str, bool] = self.__dict__.setdefault("_task_overlap_defaults", {})
        known = cache.get(pool_id)
        if known is None:
            defaults = self.get_pool(pool_id).defaults
            known = cache[pool_id] = bool(defaults and defaults.default_overlap_for_new_tasks)
        return known

    def _with_overlap_rule(
        self,
        tasks: Iterable[Any],
        pool_id: str | None,
        *,
        allow_defaults: bool,
        default_overlap: int | None,
        source: str,
    ) -> Iterable[Any]:
        """The tasks, checked as they are read for the API's overlap rule (``tasks`` itself when it cannot apply).

        With ``allow_defaults=False`` a task needs its own ``overlap`` unless ``default_overlap`` is
        given or its pool has ``defaults.default_overlap_for_new_tasks``: the API refuses it otherwise.
        """
        if allow_defaults or default_overlap is not None:
            return tasks  # unchanged, so that a list is still batched by slicing
        return self._overlap_checked(tasks, pool_id, source)

    def _overlap_checked(self, tasks: Iterable[Any], pool_id: str | None, source: str) -> Iterator[Any]:
        """``tasks``, raising for the first one without an overlap its pool does not supply.

        With ``pool_id``, the pool's default (read once, at the first task without an overlap) either
        fails that task or covers every task, and the rest is passed on unchecked.

        :raises TolokaValidationError: naming that task's index.
        """
        remaining = iter(tasks)
        for index, task in enumerate(remaining):
            if isinstance(task, dict) and ("input_values" not in task or "overlap" not in task):
                task_pool = pool_id if pool_id is not None else task.get("pool_id")
                if task_pool is not None and not self._pool_sets_task_overlap(str(task_pool)):
                    raise TolokaValidationError(
                        f"{source}[{index}] has no overlap, and pool {task_pool} has no "
                        "defaults.default_overlap_for_new_tasks: with allow_defaults=False Toloka refuses it. "
                        "Set overlap in every task, pass default_overlap, set the pool's "
                        "default_overlap_for_new_tasks, or upload with allow_defaults=True (the pool's "
                        "default_overlap_for_new_task_suites then applies). Nothing was sent",
                        {str(index): {"overlap": {"code": "VALUE_REQUIRED", "message": "overlap is required"}}},
                    )
                if pool_id is not None:  # the pool's default covers every task
                    yield task
                    yield from remaining
                    return
            yield task  # one that is not a dict is named by the batcher

    def check_tasks(
        self,
        tasks: Iterable[Any],
        pool_id: str | None = None,
        *,
        default_overlap: int | None = None,
        allow_defaults: bool = False,
        skip_invalid_items: bool = False,
        source: str = "tasks",
    ) -> int:
        """Validate every task against its project's input_spec and the overlap rule, sending nothing.

        :param allow_defaults: as in :meth:`create_tasks`: without it, a task needs an overlap (its own,
            ``default_overlap`` or its pool's ``defaults.default_overlap_for_new_tasks``).
        :return: how many tasks would be sent (all, unless ``skip_invalid_items``).
        :raises TolokaValidationError: naming the first invalid task's index and fields.
        """
        batcher = self._batcher(
            pool_id, default_overlap=default_overlap, skip_invalid_items=skip_invalid_items, source=source
        )
        checked = self._with_overlap_rule(
            tasks, pool_id, allow_defaults=allow_defaults, default_overlap=default_overlap, source=source
        )
        return batcher.check(checked)

    def create_tasks(
        self,
        tasks: Iterable[Any],
        pool_id: str | None = None,
        *,
        idempotency_key: str | None = None,
        async_mode: bool = True,
        batch_size: int | None = None,
        allow_defaults: bool = False,
        skip_invalid_items: bool = False,
        open_pool: bool = False,
        default_overlap: int | None = None,
        validate: bool = True,
        wait: bool = False,
        wait_timeout: float = 3600.0,
        total: int | None = None,
        source: str = "tasks",
    ) -> UploadResult:
        """Upload tasks from any iterable, streaming them in batches.

        In async mode (the default) every batch is one TASK.BATCH_CREATE operation. With an
        ``idempotency_key``, operation ids are derived from the key, the pool and a running number, so a
        retry finds what earlier tries created (waiting for their operations to finish) and sends
        only the input tasks not among it, whatever the order, batching or size of its input: each
        input task is created once (see :mod:`~airflow_provider_toloka.client.resume`). Sync mode
        returns the created ids; it has no operation ids, so a retry in sync mode sends everything.

        :param tasks: task objects or bare input values; a list, a generator, a file reader.
        :param pool_id: the pool for tasks that do not name one.
        :param batch_size: tasks a request (async: default 10,000, at most 100,000; sync: at most 5,000).
        :param validate: check every task against the project's input_spec before sending it. A
            re-iterable source (a list, a :class:`~airflow_provider_toloka.client.files.TaskFile`) is
            checked whole before the first request and counted for the progress ETA; a one-pass
            stream (a generator) is checked batch by batch.
        :param wait: wait for the operations to finish (raising if one fails).
        :param wait_timeout: seconds to wait at most for them, and for earlier tries' operations.
        :param total: the number of tasks, when known, for the progress ETA.
        :param source: how to name the input in error messages, e.g. a file path.
        """
        limit = MAX_ASYNC_BATCH if async_mode else MAX_SYNC_BATCH
        size = batch_size if batch_size is not None else (DEFAULT_ASYNC_BATCH if async_mode else MAX_SYNC_BATCH)
        if not 1 <= size <= limit:
            mode = "async" if async_mode else "sync"
            raise TolokaValidationError(f"batch_size must be between 1 and {limit} in {mode} mode")
        if total is None and hasattr(tasks, "__len__"):
            total = len(tasks)  # type: ignore[arg-type]
        check_overlap = validate  # validate=False sends the tasks as they are
        if validate and is_reiterable(tasks):
            # It can be read twice: check every task before the first request, not batch by batch.
            checked = self.check_tasks(
                tasks,
                pool_id,
                default_overlap=default_overlap,
                allow_defaults=allow_defaults,
                skip_invalid_items=skip_invalid_items,
                source=source,
            )
            self.log.info("Checked %s valid task(s) from %s against the project's input_spec", checked, source)
            total = checked if total is None or skip_invalid_items else total
            validate = skip_invalid_items  # only to drop the invalid ones again while sending
            check_overlap = False  # checked whole just now
        key = scoped_upload_key(idempotency_key, pool_id) if async_mode else None
        reader = UploadReader(cast("TolokaClient", self), key, pool_id, wait_timeout) if key is not None else None
        earlier = self._earlier_upload(reader) if reader is not None else EarlierUpload()
        present = earlier.present
        batcher = self._batcher(
            pool_id,
            batch_size=size,
            default_overlap=default_overlap,
            validate=validate,
            skip_invalid_items=skip_invalid_items,
            source=source,
            already_present=present.take if reader is not None else None,
            index_tag=ITEM_INDEX_TAG if async_mode else None,
        )
        params = {
            "async_mode": _flag(async_mode),
            "allow_defaults": _flag(allow_defaults),
            "skip_invalid_items": _flag(skip_invalid_items),
            "open_pool": _flag(open_pool),
        }
        result = UploadResult(operation_ids=[op.id for op in earlier.operations if op.status != "FAIL"])
        number = earlier.next_number
        progress = UploadProgress(self.log, total - len(present) if total and total > len(present) else total)
        outgoing = self._with_overlap_rule(
            tasks,
            pool_id,
            allow_defaults=allow_defaults or not check_overlap,
            default_overlap=default_overlap,
            source=source,
        )
        try:
            for batch in batcher.batches(outgoing):
                if async_mode:
                    operations, sent, number = self._submit_async(batch, params, reader, number, present)
                    result.operation_ids.extend(operation.id for operation in operations)
                else:
                    self._submit_sync(batch, params, result)
                    sent = batch.count
                result.tasks_sent += sent
                progress.advance(batch.count)
        except TolokaRateLimitError as exc:
            raise _with_upload_state(exc, result, idempotency_key) from exc
        progress.finish()
        for index, problem in batcher.errors.errors.items():
            result.validation_errors.setdefault(index, problem)
        result.invalid_count += batcher.errors.count
        result.tasks_already_present = batcher.already_present_count
        if earlier.operations:
            self._log_resumed(earlier, result, present)
        if wait:
            tracker = self.wait_operations(result.operation_ids, timeout=wait_timeout)
            result.operations = [tracker.finished[i] for i in tracker.operation_ids]
        return result

    def _earlier_upload(self, reader: UploadReader) -> EarlierUpload:
        """What earlier tries of the reader's upload created (one 404 GET when there was none)."""
        earlier = reader.earlier_upload()
        if earlier.operations:
            failed = sum(operation.status == "FAIL" for operation in earlier.operations)
            self.log.info(
                "Found %s task(s) from %s earlier operation(s) of this upload (%s failed and created nothing); "
                "sending only the input tasks not among them, as operations %s on",
                len(earlier.present),
                len(earlier.operations),
                failed,
                earlier.next_number,
            )
        return earlier

    def _log_resumed(self, earlier: EarlierUpload, result: UploadResult, left: TaskMultiset) -> None:
        """Say what a retry found already there and what it sent."""
        self.log.info(
            "Of this input, %s task(s) were already created by %s earlier operation(s) of this upload; sent %s",
            result.tasks_already_present,
            len(earlier.operations),
            result.tasks_sent,
        )
        if left:
            self.log.warning(
                "%s task(s) created by earlier tries of this upload match no task of this input (the input "
                "shrank or changed since); they stay in the pool",
                len(left),
            )

    def _submit_async(
        self,
        batch: Batch,
        params: dict[str, str],
        reader: UploadReader | None,
        number: int,
        present: TaskMultiset,
    ) -> tuple[list[Operation], int, int]:
        """POST one batch as operation ``number`` of the upload.

        An operation with that id may exist already: this try's own POST whose answer was lost, or
        a late request of an earlier try (or a concurrent one with the same key). Then its created
        tasks are read back, the batch's tasks among them are not sent again, and the rest goes
        out as the next operation.

        :param reader: reads the upload's operations (None: no key, random operation ids).
        :return: the operations, the tasks sent in them, and the next operation number.
        """
        key = reader.key if reader is not None else None
        operations: list[Operation] = []
        sent = 0
        while True:
            current = upload_operation_id(key, number)
            try:
                answer = self.http.request(
                    "POST", "/tasks", params={**params, "operation_id": current}, data=batch.body, idempotent=True
                )
            except TolokaConflictError as exc:
                if exc.code != "OPERATION_ALREADY_EXISTS":
                    raise
                if reader is None:  # a random id: the operation is this very batch, its answer was lost
                    self.log.info("Batch %s was already submitted as operation %s", batch.number, current)
                    return [*operations, self.get_operation(current)], sent + batch.count, number + 1
            else:
                operations.append(Operation.model_validate(answer))
                return operations, sent + batch.count, number + 1
            existing = reader.earlier_upload(number)
            operations.extend(earlier for earlier in existing.operations if earlier.status != "FAIL")
            number += len(existing.operations)
            rest = batch.without(existing.present.take, number)
            present.add(existing.present)  # what the batch did not use may match later input
            sent += batch.count - (rest.count if rest else 0)
            if rest is None:
                self.log.info(
                    "Batch %s was already submitted as operation(s) %s", batch.number, [o.id for o in operations]
                )
                return operations, sent, number
            self.log.warning(
                "Operation(s) %s of this upload already existed (a lost answer, a late request of an earlier "
                "try, or another try running with the same key); sending the %s of the batch's %s task(s) "
                "not among their tasks",
                [o.id for o in existing.operations],
                rest.count,
                batch.count,
            )
            batch = rest

    def _submit_sync(self, batch: Batch, params: dict[str, str], result: UploadResult) -> None:
        answer = self.http.request("POST", "/tasks", params=params, data=batch.body) or {}
        items = answer.get("items") or {}
        for local in sorted(items, key=int):
            result.task_ids.append(items[local]["id"])
        for local, problem in (answer.get("validation_errors") or {}).items():
            result.invalid_count += 1
            result.validation_errors[batch.global_index(int(local))] = problem
