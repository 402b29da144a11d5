"""Streaming tasks into validated, serialized batches, and the enumerable operation ids of an upload.

The hot path of an upload: tasks are taken a batch at a time, checked by one call of the spec's
compiled check (:meth:`InputValidator.invalid_positions`) and serialized by one call of
``pydantic_core.to_json`` (about three times faster than the json module) per request body.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.validation import Error, InputValidator, format_errors

#: Namespace of the uuid5 operation ids derived from an idempotency key.
OPERATION_NAMESPACE = uuid.UUID("6f1c8e52-0b7a-4d3e-9a51-7f0c2d1e9b40")
#: The API's limit on the input_values of all tasks in one request, in bytes. A batch whose whole
#: body (an upper bound of its input_values) is larger is split in halves until each part fits.
MAX_REQUEST_INPUT_BYTES = 1_048_576
#: At most this many per-task errors are kept in memory; the rest are only counted.
MAX_KEPT_ERRORS = 1000


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value`` (a request body).

    :raises TypeError: for a value JSON cannot carry, as ``json.dumps`` does.
    """
    try:
        return to_json(value)
    except PydanticSerializationError as exc:
        raise TypeError(f"Not serializable as JSON: {exc}") from None


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
        body = encode([task for _, task in kept])
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
    """Turns any iterable of tasks into batches, holding at most two batches' worth of tasks in memory.

    A task is a task object (with ``input_values``) or bare input values. ``pool_id`` and
    ``default_overlap`` fill what a task lacks.

    :param validator_for: pool id -> validator (None to skip local validation).
    :param skip_invalid_items: drop invalid tasks (recorded in ``errors``) instead of raising.
    :param already_present: task -> whether it is already in the API (then it is not sent, and
        counted in ``already_present_count``); called once per valid task, in input order, except
        while it is a bound method of an empty collection (such as ``TaskMultiset.take``).
    :param index_tag: a field added to every task sent, holding its global index as a string (e.g.
        ``__item_idx``: the API echoes such fields in the operation log); the input is not changed.
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
        index_tag: str | None = None,
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
        self.index_tag = index_tag
        self.already_present_count = 0
        self.errors = ErrorLog()

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

    def _completed(self, chunk: list[Any], start: int) -> tuple[list[dict[str, Any]], int | None]:
        """The chunk's tasks completed, and the position of one that cannot be (None when all can).

        The chunk itself when every task is ready. On a task that cannot be completed, the tasks
        before it are returned completed, so that their errors are reported first.
        """
        pool_id, needs_overlap = self.pool_id, self.default_overlap is not None
        if pool_id is not None:
            ready = all(
                task.__class__ is dict
                and "input_values" in task
                and task.get("pool_id") == pool_id
                and not (needs_overlap and "overlap" not in task)
                for task in chunk
            )
        else:
            ready = all(
                task.__class__ is dict
                and "input_values" in task
                and "pool_id" in task
                and not (needs_overlap and "overlap" not in task)
                for task in chunk
            )
        if ready:
            return chunk, None
        completed: list[dict[str, Any]] = []
        for position, task in enumerate(chunk):
            try:
                completed.append(self._prepare(task, start + position))
            except TolokaValidationError:
                return completed, position
        return completed, None

    def _invalid(self, tasks: list[dict[str, Any]]) -> list[tuple[int, dict[str, Error]]]:
        """The invalid tasks of ``tasks`` (positions in it, errors), by their pools' validators."""
        validator_for = self.validator_for
        if validator_for is None or not tasks:
            return []
        if self.pool_id is not None:
            validator = validator_for(self.pool_id)
            return validator.invalid_positions(tasks) if validator is not None else []
        found: list[tuple[int, dict[str, Error]]] = []
        run_start = 0
        for position in range(1, len(tasks) + 1):  # runs of tasks of one pool
            if position == len(tasks) or tasks[position]["pool_id"] != tasks[run_start]["pool_id"]:
                validator = validator_for(str(tasks[run_start]["pool_id"]))
                if validator is not None:
                    run = tasks[run_start:position]
                    found.extend((run_start + local, problem) for local, problem in validator.invalid_positions(run))
                run_start = position
        return found

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

    def _valid_chunks(self, tasks: Iterable[Any]) -> Iterator[tuple[list[dict[str, Any]], Sequence[int]]]:
        """Yield (valid tasks, completed; their global indexes) chunk by chunk, in input order.

        Raises on the first invalid task unless skipping; a task that cannot be completed at all
        always raises.
        """
        for start, chunk in _chunks(tasks, self.batch_size):
            completed, broken = self._completed(chunk, start)
            invalid = self._invalid(completed)
            for position, problem in invalid:
                self._reject(start + position, problem)
            if broken is not None:
                self._prepare(chunk[broken], start + broken)  # raises, naming it
            if not invalid:
                yield completed, range(start, start + len(completed))
                continue
            dropped = {position for position, _ in invalid}
            kept = [position for position in range(len(completed)) if position not in dropped]
            yield [completed[position] for position in kept], [start + position for position in kept]

    def _not_present(
        self, tasks: list[dict[str, Any]], indexes: Sequence[int]
    ) -> tuple[list[dict[str, Any]], Sequence[int]]:
        """``tasks`` minus those ``already_present`` takes (counted), with their indexes."""
        already_present = self.already_present
        owner = getattr(already_present, "__self__", None)
        if already_present is None or (isinstance(owner, Sized) and not len(owner)):  # nothing can be present
            return tasks, indexes
        kept = [local for local, task in enumerate(tasks) if not already_present(task)]
        self.already_present_count += len(tasks) - len(kept)
        if len(kept) == len(tasks):
            return tasks, indexes
        return [tasks[local] for local in kept], [indexes[local] for local in kept]

    def accepted(self, tasks: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """Yield the tasks to send, completed; raise on the first invalid one unless skipping."""
        for valid, indexes in self._valid_chunks(tasks):
            yield from self._not_present(valid, indexes)[0]

    def check(self, tasks: Iterable[Any]) -> int:
        """Validate every task without sending anything; return how many would be sent."""
        return sum(len(self._not_present(valid, indexes)[0]) for valid, indexes in self._valid_chunks(tasks))

    def batches(self, tasks: Iterable[Any]) -> Iterator[Batch]:
        """Yield the batches of ``tasks``, each serialized once it is full.

        A batch holds ``batch_size`` tasks to send (the last one fewer) and at most
        :data:`MAX_REQUEST_INPUT_BYTES` (the API's request limit); the split depends only on the
        tasks, so it is the same on every run. ``already_present`` sees a task only once every
        batch before it was sent (a batch sent may tell of more tasks already there).
        """
        size = self.batch_size
        pending: list[dict[str, Any]] = []
        pending_indexes: list[int] = []
        number = 0
        for valid, indexes in self._valid_chunks(tasks):
            taken = 0
            while taken < len(valid):
                room = size - len(pending)
                piece, piece_indexes = self._not_present(valid[taken : taken + room], indexes[taken : taken + room])
                taken += room
                if not pending and len(piece) == size:  # the common case: a whole chunk is one batch
                    for batch in self._batches_of(number, piece, piece_indexes):
                        yield batch
                        number += 1
                    continue
                pending.extend(piece)
                pending_indexes.extend(piece_indexes)
                if len(pending) == size:
                    for batch in self._batches_of(number, pending, pending_indexes):
                        yield batch
                        number += 1
                    pending, pending_indexes = [], []
        if pending:
            yield from self._batches_of(number, pending, pending_indexes)

    def _batches_of(self, number: int, tasks: list[dict[str, Any]], indexes: Sequence[int]) -> list[Batch]:
        """The batch (or batches, when split by size) of ``tasks``, tagged with their indexes if asked."""
        tag = self.index_tag
        if tag is not None:
            tasks = [{**task, tag: str(index)} for task, index in zip(tasks, indexes, strict=True)]
        return self._fit(number, tasks, indexes)

    def _fit(self, number: int, tasks: list[dict[str, Any]], indexes: Sequence[int]) -> list[Batch]:
        """The batch of ``tasks``, or its halves (recursively) while it is over the size limit.

        :param number: the number of the (first) batch.
        :param indexes: the tasks' global indexes.
        :raises TolokaValidationError: for one task whose input_values alone are over the limit.
        """
        body = encode(tasks)
        if len(body) <= MAX_REQUEST_INPUT_BYTES:
            contiguous = indexes[-1] - indexes[0] == len(indexes) - 1
            return [Batch(number, indexes[0], body, len(tasks), None if contiguous else list(indexes))]
        if len(tasks) == 1:
            size = len(encode(tasks[0].get("input_values")))
            if size > MAX_REQUEST_INPUT_BYTES:
                raise TolokaValidationError(
                    f"{self.source}[{indexes[0]}] is invalid: its input_values are {size:,} bytes; "
                    f"Toloka takes at most {MAX_REQUEST_INPUT_BYTES:,} bytes of input_values in one request. "
                    "Store large content elsewhere and pass its URL",
                    {str(indexes[0]): {"input_values": {"code": "VALUE_TOO_LARGE", "message": "too large"}}},
                )
            return [Batch(number, indexes[0], body, 1)]
        half = len(tasks) // 2
        head = self._fit(number, tasks[:half], indexes[:half])
        return head + self._fit(number + len(head), tasks[half:], indexes[half:])


def _chunks(tasks: Iterable[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    """(global index of the first, chunk) for consecutive chunks of ``size`` tasks."""
    if isinstance(tasks, list | tuple):
        sequence: Sequence[Any] = tasks
        for start in range(0, len(sequence), size):
            yield start, list(sequence[start : start + size])
        return
    iterator = iter(tasks)
    start = 0
    while chunk := list(islice(iterator, size)):
        yield start, chunk
        start += len(chunk)
