"""What earlier tries of a keyed upload already created, so that a retry sends only the rest.

The TASK.BATCH_CREATE operations of an upload have enumerable ids (see
:func:`~airflow_provider_toloka.client.batching.upload_operation_id`) and are posted one after another,
so they are numbered without gaps. A retry reads them until the first that does not exist, waits
for those still running, reads their logs (``TASK_CREATE`` lines with ``success`` and
``output.task_id``, as the API reference documents them) and then those tasks, and keeps a
multiset of their fingerprints: each input task matching one is not sent again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.client.batching import upload_operation_id
from airflow_provider_toloka.client.errors import TolokaNotFoundError, TolokaOperationTimeoutError
from airflow_provider_toloka.client.logger import LoggerLike
from airflow_provider_toloka.client.models import Operation

if TYPE_CHECKING:
    from airflow_provider_toloka.client.client import TolokaClient

#: Tasks read a page when reading back what earlier operations created.
READ_PAGE_SIZE = 10_000
#: The longest pause between two reads of an operation that is still running.
MAX_POLL_PAUSE = 5.0

_canonical = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def fingerprint(task: dict[str, Any]) -> bytes:
    """A 16-byte digest of what makes a task the same task: its pool, input values and known solutions."""
    identity = [str(task.get("pool_id")), task.get("input_values"), task.get("known_solutions") or None]
    return hashlib.blake2b(_canonical(identity).encode(), digest_size=16).digest()


class TaskMultiset:
    """Fingerprints of tasks already in the API, each taken at most as often as it was created."""

    __slots__ = ("counts", "size")

    def __init__(self, fingerprints: Iterable[bytes] = ()) -> None:
        self.counts: Counter[bytes] = Counter(fingerprints)
        self.size = sum(self.counts.values())

    def __len__(self) -> int:
        return self.size

    def add(self, other: TaskMultiset) -> None:
        """Take in the fingerprints of ``other`` too."""
        self.counts.update(other.counts)
        self.size += other.size

    def take(self, task: dict[str, Any]) -> bool:
        """Whether ``task`` is already there; if so, count that copy as used."""
        if not self.size:
            return False
        key = fingerprint(task)
        left = self.counts.get(key)
        if not left:
            return False
        if left == 1:
            del self.counts[key]
        else:
            self.counts[key] = left - 1
        self.size -= 1
        return True


def created_task_ids(log_lines: Iterable[dict[str, Any]]) -> list[str]:
    """The ids of the tasks an operation log says were created."""
    ids = []
    for line in log_lines:
        output = line.get("output") or {}
        if line.get("type") == "TASK_CREATE" and line.get("success") is True and output.get("task_id"):
            ids.append(str(output["task_id"]))
    return ids


@dataclass
class EarlierUpload:
    """The operations of earlier tries of one upload, in number order, and the tasks they created."""

    operations: list[Operation] = field(default_factory=list)
    present: TaskMultiset = field(default_factory=TaskMultiset)

    @property
    def next_number(self) -> int:
        """The number of the next operation of this upload."""
        return len(self.operations)


class UploadReader:
    """Reads back what the operations of one keyed upload created.

    :param client: the client to read through.
    :param key: the upload's idempotency key.
    :param pool_id: the pool the upload goes to (None: the pools the operation logs name).
    :param timeout: seconds to wait at most for operations still running.
    """

    def __init__(self, client: TolokaClient, key: str, pool_id: str | None, timeout: float) -> None:
        self.client = client
        self.key = key
        self.pool_id = pool_id
        self.timeout = timeout
        self.log: LoggerLike = client.log

    def earlier_upload(self, first_number: int = 0) -> EarlierUpload:
        """Every operation of the upload from ``first_number`` on, finished, and the tasks they created."""
        operations = self.wait(self.existing_operations(first_number))
        return EarlierUpload(operations, self.created_tasks(operations))

    def existing_operations(self, first_number: int = 0) -> list[Operation]:
        """The operations numbered ``first_number``, ``first_number + 1``, ... up to the first missing one."""
        operations = []
        number = first_number
        while True:
            try:
                operations.append(self.client.get_operation(upload_operation_id(self.key, number)))
            except TolokaNotFoundError:
                return operations
            number += 1

    def wait(self, operations: list[Operation]) -> list[Operation]:
        """The same operations once all have finished.

        :raises TolokaOperationTimeoutError: some still run after ``timeout``.
        """
        deadline = time.monotonic() + self.timeout
        pause = 0.1
        current = {operation.id: operation for operation in operations}
        while True:
            running = [i for i, operation in current.items() if not operation.is_done]
            if not running:
                return list(current.values())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TolokaOperationTimeoutError(
                    f"Earlier operations of this upload were still running after {self.timeout:.0f}s: "
                    f"{', '.join(running)}. No further task was sent; run again once they have finished"
                )
            self.log.info("Waiting for %s earlier operation(s) of this upload to finish", len(running))
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, MAX_POLL_PAUSE)
            for running_id in running:
                current[running_id] = self.client.get_operation(running_id)

    def created_tasks(self, operations: Iterable[Operation]) -> TaskMultiset:
        """Fingerprints of every task the (finished) operations created, read from their logs."""
        wanted: set[str] = set()
        pools: set[str] = set()
        for operation in operations:
            lines = self.client.get_operation_log(operation.id)
            wanted.update(created_task_ids(lines))
            if self.pool_id is None:
                pools.update(str(line["input"]["pool_id"]) for line in lines if "pool_id" in (line.get("input") or {}))
        if not wanted:
            return TaskMultiset()
        pools = {str(self.pool_id)} if self.pool_id is not None else pools
        return TaskMultiset(fingerprint(task) for task in self.read_tasks(wanted, pools))

    def read_tasks(self, wanted: set[str], pools: set[str]) -> Iterator[dict[str, Any]]:
        """The tasks with the ``wanted`` ids (a set it empties).

        Each pool is paged by id from the smallest wanted id until all are found, then any still
        missing are read one by one.
        """
        first = min(wanted)
        for pool in sorted(pools):
            for task in self.client._iter_list("/tasks", {"pool_id": pool, "id_gte": first}, READ_PAGE_SIZE):
                if task["id"] in wanted:
                    wanted.discard(task["id"])
                    yield task
                    if not wanted:
                        return
        if wanted:
            self.log.warning("Reading %s created task(s) one by one: not found in pool(s) %s", len(wanted), pools)
        for task_id in sorted(wanted):
            try:
                yield self.client.http.request("GET", f"/tasks/{task_id}")
            except TolokaNotFoundError:
                self.log.warning("Task %s, created by an earlier operation of this upload, does not exist", task_id)
