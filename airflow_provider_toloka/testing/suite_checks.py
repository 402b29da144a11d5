"""Checks of the items of a POST /task-suites request (``TaskSuiteFormV1``) and the views they become.

A suite holds its own tasks (``RawTask``: ``input_values`` and control-task fields, no overlap of
their own); the suite's ``overlap``, ``infinite_overlap``, ``reserved_for`` and ``unavailable_for``
apply to all of them. ``baseline_solutions`` is refused in a suite's task (VALUE_NOT_ALLOWED), as the
reference says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_toloka.client.validation import InputValidator
from airflow_provider_toloka.testing.batches import is_client_tag
from airflow_provider_toloka.testing.body_checks import Errors, check_int, check_number, check_types
from airflow_provider_toloka.testing.errors import field_error

#: Writable fields of a task suite (``TaskSuiteFormV1``).
SUITE_FIELDS = frozenset(
    {"pool_id", "tasks", "overlap", "infinite_overlap", "reserved_for", "unavailable_for", "issuing_order_override"}
)
#: Fields of the suite view the API sets itself: accepted in a request (a suite read back and sent again), ignored.
SUITE_READ_ONLY_FIELDS = frozenset({"id", "created", "mixed", "automerged", "remaining_overlap"})
#: Fields of a suite's task (``RawTask``); ``id`` is read-only.
SUITE_TASK_FIELDS = ("input_values", "known_solutions", "message_on_unknown_solution", "localization_config")
#: ``issuing_order_override`` bounds.
ISSUING_ORDER_BOUND = 99999.99999
MAX_OVERLAP = 30_000

Valid = list[tuple[int, dict[str, Any]]]


def suite_overlap(body: Mapping[str, Any], pool: Mapping[str, Any], allow_defaults: bool, errors: Errors) -> int | None:
    """The suite's overlap: as sent, else the pool's ``defaults.default_overlap_for_new_task_suites``.

    With ``allow_defaults`` the pool's ``default_overlap_for_new_tasks`` serves too. Without any,
    ``overlap`` is VALUE_REQUIRED unless ``infinite_overlap`` is true.
    """
    check_int(dict(body), "overlap", errors, 1, MAX_OVERLAP)
    if "overlap" in errors:
        return None
    if body.get("overlap") is not None:
        return int(body["overlap"])
    defaults = pool.get("defaults") or {}
    default = defaults.get("default_overlap_for_new_task_suites")
    if default is None and allow_defaults:
        default = defaults.get("default_overlap_for_new_tasks")
    if default is None and not body.get("infinite_overlap"):
        errors["overlap"] = field_error(
            "VALUE_REQUIRED",
            "overlap is required: the pool has no defaults.default_overlap_for_new_task_suites",
        )
    return default


def _check_tasks(tasks: Any, validator: InputValidator, errors: Errors) -> None:
    """Field errors of the suite's ``tasks``, keyed ``tasks.<n>.<field>``."""
    if tasks is None:
        errors["tasks"] = field_error("VALUE_REQUIRED", "Value must be present and not equal to null")
        return
    if not isinstance(tasks, list):
        errors["tasks"] = field_error("ARRAY_EXPECTED", "tasks must be an array")
        return
    if not tasks:
        errors["tasks"] = field_error("ARRAY_SIZE_LESS_THAN_MIN", "A task suite needs at least one task")
        return
    for number, task in enumerate(tasks):
        prefix = f"tasks.{number}"
        if not isinstance(task, dict):
            errors[prefix] = field_error("OBJECT_EXPECTED", "A task must be an object")
            continue
        for name in task:
            if name == "baseline_solutions":
                errors[f"{prefix}.{name}"] = field_error(
                    "VALUE_NOT_ALLOWED", "baseline_solutions can't be used when creating a task suite"
                )
            elif name not in SUITE_TASK_FIELDS and name != "id":
                errors[f"{prefix}.{name}"] = field_error("VALUE_NOT_ALLOWED", "Unknown field name")
        for path, problem in (validator.validate_input_values(task.get("input_values")) or {}).items():
            errors[f"{prefix}.{path}"] = problem
        check_types(task, {"known_solutions": list, "message_on_unknown_solution": str}, errors)


def check_suite(
    item: Any,
    pools: Mapping[str, dict[str, Any]],
    validator_for: Callable[[str], InputValidator],
    allow_defaults: bool,
) -> tuple[dict[str, Any] | None, Errors]:
    """One request item: its suite view (without ``id``, ``created`` and task ids) or its field errors."""
    if not isinstance(item, dict):
        return None, {"": field_error("OBJECT_EXPECTED", "A task suite must be an object")}
    if item.get("pool_id") is None:
        return None, {"pool_id": field_error("VALUE_REQUIRED", "Value must be present and not equal to null")}
    pool_id = str(item["pool_id"])
    pool = pools.get(pool_id)
    if pool is None:
        return None, {"pool_id": field_error("ENTITY_DOES_NOT_EXIST", f"Pool {pool_id} does not exist")}
    errors: Errors = {}
    for key in item:
        if key not in SUITE_FIELDS and key not in SUITE_READ_ONLY_FIELDS and not is_client_tag(key):
            errors[key] = field_error("VALUE_NOT_ALLOWED", "Unknown field name")
    _check_tasks(item.get("tasks"), validator_for(pool["project_id"]), errors)
    check_types(item, {"infinite_overlap": bool, "reserved_for": list, "unavailable_for": list}, errors)
    check_number(item, "issuing_order_override", errors, -ISSUING_ORDER_BOUND, ISSUING_ORDER_BOUND)
    overlap = suite_overlap(item, pool, allow_defaults, errors)
    if errors:
        return None, errors
    return suite_view(item, pool_id, overlap), errors


def suite_view(item: Mapping[str, Any], pool_id: str, overlap: int | None) -> dict[str, Any]:
    """The suite as the API shows it (``TaskSuiteViewV1``), before ``id``, ``created`` and its tasks' ids."""
    view: dict[str, Any] = {
        "pool_id": pool_id,
        "tasks": [{name: task[name] for name in SUITE_TASK_FIELDS if name in task} for task in item["tasks"]],
        "overlap": overlap,
        "infinite_overlap": bool(item.get("infinite_overlap", False)),
        "reserved_for": list(item.get("reserved_for") or []),
        "unavailable_for": list(item.get("unavailable_for") or []),
        "issuing_order_override": item.get("issuing_order_override") or 0,
        "mixed": False,
        "automerged": False,
        "remaining_overlap": overlap,
    }
    if overlap is None:
        del view["overlap"], view["remaining_overlap"]
    return view


def check_suites(
    items: list[Any],
    pools: Mapping[str, dict[str, Any]],
    validator_for: Callable[[str], InputValidator],
    allow_defaults: bool,
) -> tuple[Valid, dict[int, Errors]]:
    """Split request items into valid ``(index, suite view)`` pairs and field errors by index."""
    valid: Valid = []
    errors: dict[int, Errors] = {}
    for index, item in enumerate(items):
        view, problems = check_suite(item, pools, validator_for, allow_defaults)
        if view is None:
            errors[index] = problems
        else:
            valid.append((index, view))
    return valid, errors
