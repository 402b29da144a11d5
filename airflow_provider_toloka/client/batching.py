"""Streaming tasks into validated, serialized batches, and the enumerable operation ids of an upload."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.validation import Error, InputValidator, format_errors

#: Namespace of the uuid5 operation ids derived from an idempotency key.
OPERATION_NAMESPACE = uuid.UUID("6f1c8e52-0b7a-4d3e-9a51-7f0c2d1e9b40")
#: The API's limit on the input_values of all tasks in one request, in bytes. A batch whose whole
#: body (an upper bound of its input_values) is larger is split in halves until each part fits.
MAX_REQUEST_INPUT_BYTES = 1_048_576
#: At most this many per-task errors are kept in memory; the rest are only counted.
MAX_KEPT_ERRORS = 1000

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def scoped_upload_key(idempotency_key: str | None, pool_id: str | None) -> str | None:
    """The key an upload's operation ids derive from: the caller's, scoped to the pool when one is given."""
    if idempotency_key is None or pool_id is None:
        return idempotency_key
    return f"{idempotency_key}/pool/{pool_id}"


def upload_operation_id(idempotency_key: str | None, number: int) -> str:
    """The id of an upload's ``number``-th operation; random without a key.

    It derives from the key and the number only, so a retry can enumerate what earlier tries sent,
    whatever their batches held.
    """
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(OPERATION_NAMESPACE, f"{idempotency_key}/{number}"))


@dataclass
class Batch:
    """One request's worth of tasks, already serialized.

    :param number: the batch's position in this pass over the tasks, from 0.
    :param start: global index of its first task.
    :param body: the JSON array, as bytes.
    :param count: how many tasks it holds.
    :param positions: global index of each task when some were skipped locally, else None.
    """

    number: int
    start: int
    body: bytes
    count: int
    positions: list[int] | None = None

    def global_index(self, local: int) -> int:
        """The caller's index of the batch's ``local``-th task."""
        return self.positions[local] if self.positions is not None else self.start + local

    def tasks(self) -> list[dict[str, Any]]:
        """The batch's tasks, parsed back from its body."""
        return json.loads(self.body)

    def without(self, drop: Callable[[dict[str, Any]], bool], number: int) -> Batch | None:
        """The batch minus the tasks ``drop`` picks, renumbered; None when none is left."""
        kept = [(self.global_index(local), task) for local, task in enumerate(self.tasks()) if not drop(task)]
        if not kept:
            return None
        positions = [index for index, _ in kept]
        contiguous = positions[-1] - positions[0] == len(positions) - 1
        body = _dumps([task for _, task in kept]).encode()
        return Batch(number, positions[0], body, len(kept), None if contiguous else positions)


@dataclass
class ErrorLog:
    """Per-task validation errors by the caller's global index, bounded in memory."""

    errors: dict[int, dict[str, Error]] = field(default_factory=dict)
    count: int = 0

    def add(self, index: int, problem: dict[str, Error]) -> None:
        self.count += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors[index] = problem


class TaskBatcher:
    """Turns any iterable of tasks into batches, holding at most one batch in memory.

    A task is a task object (with ``input_values``) or bare input values. ``pool_id`` and
    ``default_overlap`` fill what a task lacks.

    :param validator_for: pool id -> validator (None to skip local validation).
    :param skip_invalid_items: drop invalid tasks (recorded in ``errors``) instead of raising.
    :param already_present: task -> whether it is already in the API (then it is not sent, and
        counted in ``already_present_count``); called once per valid task, in input order.
    """

    def __init__(
        self,
        *,
        batch_size: int,
        pool_id: str | None = None,
        default_overlap: int | None = None,
        validator_for: Callable[[str], InputValidator | None] | None = None,
        skip_invalid_items: bool = False,
        source: str = "tasks",
        already_present: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.pool_id = str(pool_id) if pool_id is not None else None
        self.default_overlap = default_overlap
        self.validator_for = validator_for
        self.skip_invalid_items = skip_invalid_items
        self.source = source
        self.already_present = already_present
        self.already_present_count = 0
        self.errors = ErrorLog()
        self.skipped: list[int] = []

    def _prepare(self, task: Any, index: int) -> dict[str, Any]:
        if not isinstance(task, dict):
            raise TolokaValidationError(f"{self.source}[{index}]: a task must be an object, got {type(task).__name__}")
        if "input_values" not in task:
            task = {"input_values": task}
        pool_id = self.pool_id
        if pool_id is not None and task.get("pool_id") != pool_id:
            task = {**task, "pool_id": pool_id}
        elif "pool_id" not in task:
            raise TolokaValidationError(f"{self.source}[{index}]: no pool_id; pass pool_id or set it in every task")
        if self.default_overlap is not None and "overlap" not in task:
            task = {**task, "overlap": self.default_overlap}
        return task

    def _is_ready(self, raw: Any) -> bool:
        """Whether ``_prepare`` would return ``raw`` itself: a full task already in the right pool."""
        return (
            type(raw) is dict
            and "input_values" in raw
            and (raw.get("pool_id") == self.pool_id if self.pool_id is not None else "pool_id" in raw)
            and (self.default_overlap is None or "overlap" in raw)
        )

    def _reject(self, index: int, problem: dict[str, Error]) -> None:
        """Record an invalid task when skipping, else raise naming it."""
        if not self.skip_invalid_items:
            raise TolokaValidationError(
                f"{self.source}[{index}] is invalid: {format_errors(problem)}. Neither it nor any task after it "
                "was sent; fix it (or pass skip_invalid_items=True) and run again: batches already sent "
                "are not sent twice",
                {str(index): problem},
            )
        self.errors.add(index, problem)
        self.skipped.append(index)

    def accepted(self, tasks: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """Yield the tasks to send, completed; raise on the first invalid one unless skipping.

        This loop runs once per task: the validator is looked up once per run of tasks of the
        same pool. Indexes of skipped tasks (invalid or already present) are appended to ``self.skipped``.
        """
        is_ready, prepare, validator_for = self._is_ready, self._prepare, self.validator_for
        already_present = self.already_present
        last_pool: Any = None
        validator: InputValidator | None = None
        for index, raw in enumerate(tasks):
            task = raw if is_ready(raw) else prepare(raw, index)
            if validator_for is not None:
                task_pool = task["pool_id"]
                if validator is None or task_pool != last_pool:
                    validator, last_pool = validator_for(str(task_pool)), task_pool
                if validator is not None:
                    problem = validator.validate_task(task)
                    if problem:
                        self._reject(index, problem)
                        continue
            if already_present is not None and already_present(task):
                self.already_present_count += 1
                self.skipped.append(index)
                continue
            yield task

    def check(self, tasks: Iterable[Any]) -> int:
        """Validate every task without sending anything; return how many would be sent."""
        return sum(1 for _ in self.accepted(tasks))

    def batches(self, tasks: Iterable[Any]) -> Iterator[Batch]:
        """Yield the batches of ``tasks``, holding one batch in memory at a time.

        A batch holds at most ``batch_size`` tasks and at most :data:`MAX_REQUEST_INPUT_BYTES`
        (the API's request limit); the split depends only on the tasks, so it is the same on every run.
        """
        size = self.batch_size
        chunk: list[dict[str, Any]] = []
        append = chunk.append
        number = first = 0
        for task in self.accepted(tasks):
            append(task)
            if len(chunk) >= size:
                for batch in self._fit(self._batch(number, first, chunk), chunk):
                    yield batch
                    number += 1
                first += len(chunk) + len(self.skipped)
                self.skipped.clear()
                chunk = []
                append = chunk.append
        if chunk:
            yield from self._fit(self._batch(number, first, chunk), chunk)

    def _fit(self, batch: Batch, chunk: list[dict[str, Any]]) -> list[Batch]:
        """``batch``, or its halves (recursively, numbered on from its number) when it is over the size limit.

        :raises TolokaValidationError: for one task whose input_values alone are over the limit.
        """
        if len(batch.body) <= MAX_REQUEST_INPUT_BYTES:
            return [batch]
        if len(chunk) == 1:
            size = len(_dumps(chunk[0].get("input_values")).encode())
            if size > MAX_REQUEST_INPUT_BYTES:
                raise TolokaValidationError(
                    f"{self.source}[{batch.global_index(0)}] is invalid: its input_values are {size:,} bytes; "
                    f"Toloka takes at most {MAX_REQUEST_INPUT_BYTES:,} bytes of input_values in one request. "
                    "Store large content elsewhere and pass its URL",
                    {str(batch.global_index(0)): {"input_values": {"code": "VALUE_TOO_LARGE", "message": "too large"}}},
                )
            return [batch]
        positions = [batch.global_index(local) for local in range(len(chunk))]
        half = len(chunk) // 2
        parts: list[Batch] = []
        for part, where in ((chunk[:half], positions[:half]), (chunk[half:], positions[half:])):
            contiguous = where[-1] - where[0] == len(where) - 1
            sub = Batch(
                batch.number + len(parts), where[0], _dumps(part).encode(), len(part), None if contiguous else where
            )
            for fitted in self._fit(sub, part):
                fitted.number = batch.number + len(parts)
                parts.append(fitted)
        return parts

    def _batch(self, number: int, first: int, chunk: list[dict[str, Any]]) -> Batch:
        """The batch of ``chunk``, whose tasks came from index ``first`` on, minus ``self.skipped``."""
        body = _dumps(chunk).encode()
        if not self.skipped:
            return Batch(number, first, body, len(chunk))
        skipped = set(self.skipped)
        positions = [i for i in range(first, first + len(chunk) + len(skipped)) if i not in skipped]
        contiguous = positions[-1] - positions[0] == len(positions) - 1
        return Batch(number, positions[0], body, len(chunk), None if contiguous else positions)
