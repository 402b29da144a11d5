"""Uploads of tasks and of task suites: one object, a synchronous list, or a ``*.BATCH_CREATE`` operation.

One :class:`Uploads` serves ``POST /tasks`` and ``POST /task-suites``; an :class:`UploadKind` says what
differs between them: the item noun, the operation type, the log line types, the quota, and how the
items are checked, stored and measured. The request items are kept as sent (the operation log
echoes them).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.testing.batches import Errors, Valid
from airflow_provider_toloka.testing.errors import ApiError, field_error, validation_error
from airflow_provider_toloka.testing.operations import Operation

if TYPE_CHECKING:
    from airflow_provider_toloka.testing.limits import Quota
    from airflow_provider_toloka.testing.store_access import StoreAccess

#: Most items in one synchronous / asynchronous upload request.
MAX_SYNC_TASKS = 5_000
MAX_ASYNC_TASKS = 100_000
#: Most bytes of ``input_values`` in one upload request.
MAX_REQUEST_INPUT_BYTES = 1_048_576


def task_input_bytes(tasks: Iterable[Any]) -> int:
    """Bytes of the ``input_values`` of the task objects in ``tasks`` (other items count nothing)."""
    return sum(len(json.dumps(task.get("input_values")).encode()) for task in tasks if isinstance(task, dict))


def log_input(item: Any) -> dict[str, Any]:
    """The ``input`` of a log line: the item as sent (an object; a non-object item as ``{}``)."""
    return item if isinstance(item, dict) else {}


@dataclass(frozen=True)
class UploadKind:
    """What differs between uploads of tasks and of task suites.

    :param noun: the items, plural, for messages (``tasks``).
    :param operation_type: the batch operation's type (``TASK.BATCH_CREATE``).
    :param log_prefix: log lines are ``<prefix>_CREATE`` with output ``<prefix lowercased>_id``, and
        ``<prefix>_VALIDATE`` (``TASK``).
    :param quota: the creation quota the items count against.
    :param check: ``(items, allow_defaults)`` -> valid ``(index, view)`` pairs and field errors by index.
    :param store: stores checked views created at the given time (each view gets its ``id``).
    :param input_bytes: bytes of ``input_values`` in the request items.
    """

    noun: str
    operation_type: str
    log_prefix: str
    quota: Quota
    check: Callable[[list[Any], bool], tuple[Valid, dict[int, Errors]]]
    store: Callable[[list[dict[str, Any]], float], None]
    input_bytes: Callable[[list[Any]], int]


class UploadBatch:
    """The deferred part of one batch operation: what to create when it finishes, and its log.

    :param kind: what is uploaded.
    :param items: the request items, as sent.
    :param valid: the valid ``(index, view)`` pairs.
    :param errors: field errors by index.
    :param open_pool: open the pools of the created items when the operation succeeds.
    :param open_pool_by_id: opens one pool at the given time.
    """

    __slots__ = ("created", "errors", "items", "kind", "open_pool", "open_pool_by_id", "valid")

    def __init__(
        self,
        kind: UploadKind,
        items: list[Any],
        valid: Valid,
        errors: dict[int, Errors],
        open_pool: bool,
        open_pool_by_id: Callable[[str, float], None],
    ) -> None:
        self.kind = kind
        self.items = items
        self.valid: Valid | None = valid
        self.errors = errors
        self.open_pool = open_pool
        self.open_pool_by_id = open_pool_by_id
        self.created: dict[int, str] = {}

    def finish(self, operation: Operation) -> None:
        """Create the valid items (nothing when the operation fails) and open their pools if asked."""
        valid, self.valid = self.valid or [], None
        if not operation.succeeds:
            operation.details.update(success_count=0, failed_count=len(self.items))
            return
        views = [view for _, view in valid]
        self.kind.store(views, operation.due)
        self.created = {index: view["id"] for index, view in valid}
        operation.details.update(success_count=len(views), failed_count=len(self.errors))
        if self.open_pool:
            for pool_id in {view["pool_id"] for view in views}:
                self.open_pool_by_id(pool_id, operation.due)

    def log(self) -> list[dict[str, Any]]:
        """In request order: a ``*_CREATE`` line per created item, a ``*_VALIDATE`` line per invalid one.

        ``input`` is the item as sent, client tags included; a failed batch logs only its invalid items.
        """
        prefix = self.kind.log_prefix
        output_key = f"{prefix.lower()}_id"
        lines = []
        for index, item in enumerate(self.items):
            created = self.created.get(index)
            if created is not None:
                lines.append(
                    {"type": f"{prefix}_CREATE", "success": True, "input": item, "output": {output_key: created}}
                )
            elif index in self.errors:
                lines.append(
                    {
                        "type": f"{prefix}_VALIDATE",
                        "success": False,
                        "input": log_input(item),
                        "output": self.errors[index],
                    }
                )
        return lines


class Uploads:
    """``POST`` of one kind of item: one object, a synchronous list, or an asynchronous batch.

    :param access: the emulator's store.
    :param kind: what is uploaded.
    """

    def __init__(self, access: StoreAccess, kind: UploadKind) -> None:
        self.access = access
        self.kind = kind

    def check_request_size(self, items: list[Any], body_size: int, asynchronous: bool) -> None:
        """413 for too many items, or for more than :data:`MAX_REQUEST_INPUT_BYTES` of input_values."""
        limit = MAX_ASYNC_TASKS if asynchronous else MAX_SYNC_TASKS
        if len(items) > limit:
            raise ApiError(
                413,
                "VALIDATION_ERROR",
                f"Too many {self.kind.noun}: {len(items)} > {limit} in a"
                + (
                    "n asynchronous request"
                    if asynchronous
                    else " synchronous request; use async_mode=true for bigger batches"
                ),
                {"items": field_error("ARRAY_SIZE_GREATER_THAN_MAX", f"At most {limit} items")},
            )
        if body_size > MAX_REQUEST_INPUT_BYTES:  # the body bounds the input_values: count only when it may be over
            size = self.kind.input_bytes(items)
            if size > MAX_REQUEST_INPUT_BYTES:
                raise ApiError(
                    413,
                    "VALIDATION_ERROR",
                    f"The input_values of the request are {size} bytes; at most {MAX_REQUEST_INPUT_BYTES} a request",
                    {
                        "input_values": field_error(
                            "OBJECT_SIZE_BYTES_GREATER_THAN_MAX", f"At most {MAX_REQUEST_INPUT_BYTES} bytes"
                        )
                    },
                )

    def create_one(self, body: dict[str, Any], allow_defaults: bool = False) -> dict[str, Any]:
        """One object (synchronous): the created item (400 with its field errors otherwise)."""
        quota = self.kind.quota
        with self.access.transaction() as now:
            self.access.refuse_over_quota(quota, 1, now)
            valid, errors = self.kind.check([body], allow_defaults)
            if errors:
                raise validation_error(errors[0])
            quota.consume(1, now)
            view = valid[0][1]
            self.kind.store([view], now)
            return view

    def create_sync(
        self, items: list[Any], skip_invalid_items: bool, allow_defaults: bool = False, body_size: int = 0
    ) -> dict[str, Any]:
        """A synchronous list: ``{"items": {index: item}, "validation_errors": {index: errors}}``.

        :raises ApiError: 413 when too many items or too many bytes, 400 when any is invalid and
            ``skip_invalid_items`` is false (nothing is created then); 429 over the quota.
        """
        self.check_request_size(items, body_size, asynchronous=False)
        quota = self.kind.quota
        with self.access.transaction() as now:
            self.access.refuse_over_quota(quota, len(items), now)
            valid, errors = self.kind.check(items, allow_defaults)
            error_payload = {str(index): problems for index, problems in errors.items()}
            if errors and not skip_invalid_items:
                raise validation_error(error_payload, f"{len(errors)} of {len(items)} {self.kind.noun} are invalid")
            quota.consume(len(items), now)
            self.kind.store([view for _, view in valid], now)
            return {"items": {str(index): view for index, view in valid}, "validation_errors": error_payload}

    def create_async(
        self,
        items: list[Any],
        *,
        allow_defaults: bool,
        skip_invalid_items: bool,
        open_pool: bool,
        operation_id: str | None,
        body_size: int = 0,
    ) -> dict[str, Any]:
        """``async_mode=true`` (an array, or one object): a batch operation of the kind's type.

        :raises ApiError: 413 when too many items or bytes, 409 OPERATION_ALREADY_EXISTS for a known
            ``operation_id`` (nothing created or counted), 429 over the quota.
        """
        self.check_request_size(items, body_size, asynchronous=True)
        quota = self.kind.quota
        with self.access.transaction() as now:
            self.access.refuse_known_operation(operation_id)
            self.access.refuse_over_quota(quota, len(items), now)
            valid, errors = self.kind.check(items, allow_defaults)
            quota.consume(len(items), now)
            batch = UploadBatch(self.kind, items, valid, errors, open_pool, self.access.open_pool_by_upload)
            operation = Operation(
                operation_id or str(uuid.uuid4()),
                self.kind.operation_type,
                now,
                self.access.state.config.operation_delay,
                {"allow_defaults": allow_defaults, "skip_invalid_items": skip_invalid_items, "open_pool": open_pool},
                {
                    "total_count": len(items),
                    "valid_count": len(valid),
                    "not_valid_count": len(errors),
                    "success_count": 0,
                    "failed_count": 0,
                },
                succeeds=skip_invalid_items or not errors,
                effect=batch.finish,
            )
            operation.log_source = batch.log
            return self.access.submit_operation(operation, now)
