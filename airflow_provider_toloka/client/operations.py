"""What a set of operations means: pending, done or failed and why, and their summed counts.

:class:`OperationTracker` holds no I/O: the client's sync and async pollers, the sensor and the
trigger feed it operations and read its verdict, so the rules of waiting are written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from airflow_provider_toloka.client.errors import TolokaOperationFailedError, TolokaOperationTimeoutError
from airflow_provider_toloka.client.models import Operation
from airflow_provider_toloka.client.validation import format_errors

COUNT_FIELDS = ("total_count", "valid_count", "not_valid_count", "success_count", "failed_count")


def details_of(operation: Operation) -> dict[str, Any]:
    """The operation's ``details`` as a plain dict."""
    details = operation.details
    if details is None:
        return {}
    return details if isinstance(details, dict) else details.model_dump(exclude_none=True)


def totals(operations: Iterable[Operation]) -> dict[str, int]:
    """Sum the task counts of TASK.BATCH_CREATE operations, plus how many operations there were."""
    result = dict.fromkeys(COUNT_FIELDS, 0)
    result["operations"] = 0
    for operation in operations:
        result["operations"] += 1
        details = details_of(operation)
        for name in COUNT_FIELDS:
            value = details.get(name)
            if isinstance(value, (int, str)) and str(value).isdigit():
                result[name] += int(value)
    return result


#: The tag the client adds to every task it uploads asynchronously: the task's index in the caller's input.
#: The API keeps such ``__`` fields out of the task and echoes them in the operation log's ``input``
#: (the official client tags its items with the same field), so a log line names the task it is about.
ITEM_INDEX_TAG = "__item_idx"


def item_index(log_item: dict[str, Any]) -> str:
    """The caller's index of the task of one log line (from its tag), or ``?``."""
    line_input = log_item.get("input")
    index = line_input.get(ITEM_INDEX_TAG) if isinstance(line_input, dict) else None
    return "?" if index is None else str(index)


def first_errors(log_items: Iterable[dict[str, Any]], limit: int = 3) -> list[str]:
    """Readable lines for the first failed items of an operation log (``TASK_VALIDATE`` lines).

    Lines with field errors come first: they are what made a batch fail, and other failed lines
    (without field errors) must not hide them.
    """
    invalid: list[str] = []
    others: list[str] = []
    for item in log_items:
        if item.get("success", True):
            continue
        output = item.get("output") or {}
        # the API puts the field errors in ``output`` itself: {"input_values.x": {"code", "message"}}
        problems = output.get("validation_errors", output) if isinstance(output, dict) else None
        where = item_index(item)
        # field path -> {code, message}; a plain {"message": ...} (an item not created) is not one
        if isinstance(problems, dict) and problems and all(isinstance(v, dict) for v in problems.values()):
            invalid.append(f"item {where}: {format_errors(problems)}")
            if len(invalid) >= limit:
                break
        elif len(others) < limit:
            others.append(f"item {where}: {str(output)[:300]}")
    return invalid or others


def describe_failure(operation: Operation, log_items: Iterable[dict[str, Any]] = ()) -> str:
    """The message for a failed operation: its type, id, counts and first item errors."""
    counts = ", ".join(f"{k}={v}" for k, v in details_of(operation).items() if k in COUNT_FIELDS)
    message = f"Operation {operation.id} ({operation.type}) failed"
    if counts:
        message += f": {counts}"
    errors = first_errors(log_items)
    if errors:
        message += ". First errors: " + "; ".join(errors)
    if operation.type == "TASK.BATCH_CREATE":
        message += ". Nothing of this batch was created: fix the tasks, or upload with skip_invalid_items=True"
    return message


class OperationTracker:
    """The state of a wait for several operations, fed one read operation at a time.

    :param operation_ids: the operations to wait for.
    """

    def __init__(self, operation_ids: Sequence[str]) -> None:
        self.operation_ids = list(dict.fromkeys(str(i) for i in operation_ids))
        self.finished: dict[str, Operation] = {}
        self.failed: Operation | None = None

    def __repr__(self) -> str:
        return f"OperationTracker({len(self.finished)}/{len(self.operation_ids)} done, failed={self.failed_id!r})"

    @property
    def pending(self) -> list[str]:
        """The operations still to read, in the given order (none once one has failed)."""
        if self.failed is not None:
            return []
        return [i for i in self.operation_ids if i not in self.finished]

    @property
    def done(self) -> bool:
        """Every operation succeeded."""
        return self.failed is None and len(self.finished) == len(self.operation_ids)

    @property
    def failed_id(self) -> str | None:
        """The id of the operation that failed, if one did."""
        return None if self.failed is None else self.failed.id

    def update(self, operation: Operation) -> None:
        """Take in a freshly read operation."""
        if operation.status == "FAIL":
            self.failed = operation
        elif operation.status == "SUCCESS":
            self.finished[operation.id] = operation

    def failure(self, log_items: Iterable[dict[str, Any]] = ()) -> TolokaOperationFailedError:
        """The error for the failed operation, its message built from the operation's log."""
        assert self.failed is not None, "no operation has failed"
        return TolokaOperationFailedError(describe_failure(self.failed, log_items), self.failed)

    def timeout(self, waited: float) -> TolokaOperationTimeoutError:
        """The error for operations still running after ``waited`` seconds."""
        return TolokaOperationTimeoutError(f"Operations still running after {waited:.0f}s: {', '.join(self.pending)}")

    def totals(self) -> dict[str, int]:
        """The summed counts of the succeeded operations (see :func:`totals`)."""
        return totals(self.finished[i] for i in self.operation_ids if i in self.finished)
