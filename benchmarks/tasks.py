"""The benchmark's project and tasks (standard library only: the toloka-kit worker imports it too)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

TOKEN = "bench-token"
BATCH_SIZE = 10_000

#: The project's input_spec: three fields, each with a constraint the validator checks.
INPUT_SPEC: dict[str, Any] = {
    "image": {"type": "url", "required": True},
    "text": {"type": "string", "required": True, "max_length": 500},
    "n": {"type": "integer", "required": True, "min_value": 0},
}

PROJECT: dict[str, Any] = {
    "public_name": "Benchmark: is it a shoe?",
    "public_description": "Look at the picture and say whether it shows a shoe",
    "task_spec": {
        "input_spec": INPUT_SPEC,
        "output_spec": {"result": {"type": "string", "required": True, "allowed_values": ["yes", "no"]}},
    },
    "assignments_issuing_type": "AUTOMATED",
}


def pool_body(project_id: str) -> dict[str, Any]:
    """A valid pool of the benchmark project."""
    return {
        "project_id": project_id,
        "private_name": "Benchmark pool",
        "may_contain_adult_content": False,
        "will_expire": "2035-01-01T00:00:00",
        "reward_per_assignment": 0.01,
        "assignment_max_duration_seconds": 60,
        "defaults": {"default_overlap_for_new_task_suites": 1, "default_overlap_for_new_tasks": 1},
    }


def make_task(n: int, pool_id: str) -> dict[str, Any]:
    """The ``n``-th task: a full task object (about 150 bytes of JSON)."""
    return {
        "pool_id": pool_id,
        "input_values": {
            "image": f"https://example.com/images/{n:08d}.jpg",
            "text": f"Item {n}: does the picture show a shoe?",
            "n": n,
        },
        "overlap": 1,
    }


def generate(count: int, pool_id: str) -> Iterator[dict[str, Any]]:
    """The first ``count`` tasks, built one at a time."""
    for n in range(count):
        yield make_task(n, pool_id)


def write_jsonl(path: str, count: int, pool_id: str) -> str:
    """Write the first ``count`` tasks to ``path``, one JSON object a line; returns the path."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        lines: list[str] = []
        for task in generate(count, pool_id):
            lines.append(json.dumps(task))
            if len(lines) >= 10_000:
                handle.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            handle.write("\n".join(lines) + "\n")
    return path


def iter_jsonl_dicts(path: str) -> Iterator[dict[str, Any]]:
    """The tasks of a JSONL file, parsed line by line with ``json.loads`` (for the raw and toloka-kit runs)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most ``size`` items."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
