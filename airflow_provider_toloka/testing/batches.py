"""Task intake: checking the items of a POST /tasks request (the upload itself: ``uploads.py``).

The request items are kept as sent (the operation log echoes them); each valid item gets a
task view of its own with the API's fixed field set, sharing the item's ``input_values``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_toloka.client.validation import InputValidator
from airflow_provider_toloka.testing.errors import field_error

Errors = dict[str, dict[str, str]]
Valid = list[tuple[int, dict[str, Any]]]

#: The highest task overlap (``TaskFormV1.overlap`` maximum).
MAX_OVERLAP = 30_000
#: Writable fields of a task (``TaskFormV1``); keys starting with ``__`` are client tags (e.g. toloka-kit's
#: ``__item_idx``): echoed in the operation log, never stored.
TASK_FIELDS = frozenset(
    {
        "pool_id",
        "input_values",
        "known_solutions",
        "message_on_unknown_solution",
        "baseline_solutions",
        "localization_config",
        "overlap",
        "infinite_overlap",
        "reserved_for",
        "unavailable_for",
    }
)
#: Read-only fields of the task view: accepted in a request (a task read back and sent again) and ignored.
READ_ONLY_FIELDS = frozenset({"id", "created", "remaining_overlap", "origin_task_id"})
#: Optional fields copied into the task view only when the request sets them.
OPTIONAL_VIEW_FIELDS = ("known_solutions", "message_on_unknown_solution", "baseline_solutions", "localization_config")


def is_client_tag(key: str) -> bool:
    """Whether ``key`` is a client's private tag (``__item_idx``, ``__client_uuid``)."""
    return key.startswith("__")


def _overlap(
    item: Mapping[str, Any], pool: Mapping[str, Any], allow_defaults: bool
) -> tuple[int | None, Errors | None]:
    """The task's overlap and its error.

    ``overlap`` is required when ``allow_defaults`` is false and the pool has no
    ``defaults.default_overlap_for_new_tasks``; with ``allow_defaults`` the task-suite default serves too.
    """
    overlap = item.get("overlap")
    if overlap is not None:
        if not isinstance(overlap, int) or isinstance(overlap, bool):
            return None, {"overlap": field_error("INTEGER_EXPECTED", "overlap must be an integer")}
        if overlap < 1:
            return None, {"overlap": field_error("VALUE_LESS_THAN_MIN", "overlap must be at least 1")}
        if overlap > MAX_OVERLAP:
            return None, {"overlap": field_error("VALUE_GREATER_THAN_MAX", f"overlap must be at most {MAX_OVERLAP}")}
        return overlap, None
    defaults = pool.get("defaults") or {}
    default = defaults.get("default_overlap_for_new_tasks")
    if default is None and allow_defaults:
        default = defaults.get("default_overlap_for_new_task_suites")
    if default is None and not item.get("infinite_overlap"):
        return None, {
            "overlap": field_error(
                "VALUE_REQUIRED",
                "overlap is required: the pool has no defaults.default_overlap_for_new_tasks"
                + ("" if allow_defaults else " (and allow_defaults is false)"),
            )
        }
    return default, None


def _unknown_fields(item: Mapping[str, Any]) -> Errors | None:
    errors: Errors | None = None
    for key in item:
        if key not in TASK_FIELDS and key not in READ_ONLY_FIELDS and not is_client_tag(key):
            errors = errors or {}
            errors[key] = field_error("VALUE_NOT_ALLOWED", "Unknown field name")
    return errors


def task_view(item: Mapping[str, Any], pool_id: str, overlap: int | None) -> dict[str, Any]:
    """The stored task: the API's fixed field set with its defaults (``id`` and ``created`` added on storing)."""
    view: dict[str, Any] = {
        "pool_id": pool_id,
        "input_values": item["input_values"],
        "overlap": overlap,
        "infinite_overlap": bool(item.get("infinite_overlap", False)),
        "remaining_overlap": overlap,
        "reserved_for": list(item.get("reserved_for") or []),
        "unavailable_for": list(item.get("unavailable_for") or []),
    }
    if overlap is None:
        del view["overlap"], view["remaining_overlap"]
    for name in OPTIONAL_VIEW_FIELDS:
        if name in item:
            view[name] = item[name]
    return view


def check_items(
    items: list[Any],
    pools: Mapping[str, dict[str, Any]],
    validator_for: Callable[[str], InputValidator],
    allow_defaults: bool,
) -> tuple[Valid, dict[int, Errors]]:
    """Split request items into valid ``(index, task view)`` pairs and field errors by index.

    :param items: the parsed request items (left as sent).
    :param pools: pool id -> pool.
    :param validator_for: project id -> its (cached) input validator.
    :param allow_defaults: the request's ``allow_defaults``.
    """
    valid: Valid = []
    errors: dict[int, Errors] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[index] = {"": field_error("OBJECT_EXPECTED", "A task must be an object")}
            continue
        raw_pool_id = item.get("pool_id")
        if raw_pool_id is None:
            errors[index] = {"pool_id": field_error("VALUE_REQUIRED", "Value must be present and not equal to null")}
            continue
        pool_id = str(raw_pool_id)
        pool = pools.get(pool_id)
        if pool is None:
            errors[index] = {"pool_id": field_error("ENTITY_DOES_NOT_EXIST", f"Pool {pool_id} does not exist")}
            continue
        problems = _unknown_fields(item)
        found = validator_for(pool["project_id"]).validate_task(item)
        if found:
            problems = {**(problems or {}), **found}
        overlap, overlap_problem = _overlap(item, pool, allow_defaults)
        if overlap_problem and not (problems and "overlap" in problems):
            problems = {**(problems or {}), **overlap_problem}
        if problems:
            errors[index] = problems
            continue
        valid.append((index, task_view(item, pool_id, overlap)))
    return valid, errors
