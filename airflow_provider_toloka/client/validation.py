"""Validation of task input values against a project's ``input_spec``.

One compiled validator serves both the client (which checks every task locally before the
first request) and the emulator (which answers as the API does), so both agree on every rule.
The validator is built once per spec and is cheap per task: it sits on the upload hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

#: Field types of ``input_spec``/``output_spec`` (case-insensitive in the API).
SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "url": (str,),
    "file": (str,),
    "coordinates": (str,),
    "integer": (int,),
    "float": (int, float),
    "boolean": (bool,),
    "json": (dict, list, str, int, float, bool),
}
FIELD_TYPES = frozenset(SCALAR_TYPES) | frozenset(f"array_{name}" for name in SCALAR_TYPES)

Error = dict[str, str]
Check = Callable[[Any], "Error | None"]


def _error(code: str, message: str) -> Error:
    return {"code": code, "message": message}


def normalize_type(type_name: Any) -> str | None:
    """Return the canonical lower-case type name, or None when it is not a known type."""
    if not isinstance(type_name, str):
        return None
    name = type_name.lower()
    return name if name in FIELD_TYPES else None


def _scalar_check(type_name: str, spec: Mapping[str, Any]) -> Check:
    """Compile the checks of one scalar value: type, allowed values, bounds, lengths."""
    accepted = SCALAR_TYPES[type_name]
    numeric = type_name in ("integer", "float")
    textual = accepted == (str,)
    allowed = spec.get("allowed_values")
    allowed_set = frozenset(allowed) if allowed else None
    min_value, max_value = spec.get("min_value"), spec.get("max_value")
    min_length, max_length = spec.get("min_length"), spec.get("max_length")
    rejects_bool = bool not in accepted and type_name != "json"

    def check(value: Any) -> Error | None:
        if not isinstance(value, accepted) or (rejects_bool and isinstance(value, bool)):
            return _error("INVALID_TYPE", f"Expected {type_name}, got {type(value).__name__}")
        if allowed_set is not None and value not in allowed_set:
            return _error("VALUE_NOT_ALLOWED", f"Value {value!r} is not one of {sorted(map(str, allowed or ()))}")
        if numeric:
            if min_value is not None and value < min_value:
                return _error("VALUE_LESS_THAN_MIN", f"Value {value} is less than min_value {min_value}")
            if max_value is not None and value > max_value:
                return _error("VALUE_GREATER_THAN_MAX", f"Value {value} is greater than max_value {max_value}")
        elif textual:
            value = cast("str", value)
            if min_length is not None and len(value) < min_length:
                return _error("STRING_TOO_SHORT", f"Length {len(value)} is less than min_length {min_length}")
            if max_length is not None and len(value) > max_length:
                return _error("STRING_TOO_LONG", f"Length {len(value)} is greater than max_length {max_length}")
        return None

    return check


def _array_check(item_check: Check) -> Check:
    def check(value: Any) -> Error | None:
        if not isinstance(value, list):
            return _error("INVALID_TYPE", f"Expected an array, got {type(value).__name__}")
        for position, item in enumerate(value):
            problem = item_check(item)
            if problem is not None:
                return _error(problem["code"], f"Item {position}: {problem['message']}")
        return None

    return check


def check_spec(spec: Any, where: str) -> dict[str, Error]:
    """Check a field spec mapping (``input_spec`` or ``output_spec``) itself.

    :param spec: the mapping field name -> ``{"type": ..., ...}``.
    :param where: its path for the messages, e.g. ``task_spec.input_spec``.
    :return: field path -> error; empty when the spec is valid.
    """
    if not isinstance(spec, Mapping) or not spec:
        return {where: _error("VALUE_REQUIRED", "Must be a non-empty object of field specs")}
    errors: dict[str, Error] = {}
    for name, field in spec.items():
        path = f"{where}.{name}"
        if not isinstance(field, Mapping):
            errors[path] = _error("INVALID_TYPE", "A field spec must be an object with a 'type'")
        elif normalize_type(field.get("type")) is None:
            errors[f"{path}.type"] = _error(
                "VALUE_NOT_ALLOWED",
                f"Unknown type {field.get('type')!r}; use one of {', '.join(sorted(FIELD_TYPES))}",
            )
    return errors


class InputValidator:
    """Validates ``input_values`` of tasks against one project's ``input_spec``.

    :param input_spec: the project's ``task_spec.input_spec``.
    """

    def __init__(self, input_spec: Mapping[str, Any]) -> None:
        problems = check_spec(input_spec, "input_spec")
        if problems:
            raise ValueError(f"Invalid input_spec: {problems}")
        self.fields: list[tuple[str, str, bool, Check]] = []
        for name, field in input_spec.items():
            type_name = normalize_type(field["type"])
            assert type_name is not None
            if type_name.startswith("array_"):
                check = _array_check(_scalar_check(type_name[len("array_") :], field))
            else:
                check = _scalar_check(type_name, field)
            self.fields.append((name, f"input_values.{name}", bool(field.get("required", True)), check))
        self.known = frozenset(input_spec)

    def validate_input_values(self, input_values: Any) -> dict[str, Error] | None:
        """Return field path -> error for one task's ``input_values``, or None when valid."""
        if not isinstance(input_values, dict):
            return {"input_values": _error("VALUE_REQUIRED", "input_values must be an object")}
        errors: dict[str, Error] | None = None
        for name, path, required, check in self.fields:
            value = input_values.get(name)
            if value is None:
                if required:
                    errors = errors or {}
                    errors[path] = _error("VALUE_REQUIRED", "Value must be present and not equal to null")
                continue
            problem = check(value)
            if problem is not None:
                errors = errors or {}
                errors[path] = problem
        if not self.known.issuperset(input_values):
            errors = errors or {}
            for name in input_values:
                if name not in self.known:
                    errors[f"input_values.{name}"] = _error(
                        "FIELD_NOT_ALLOWED",
                        f"Field {name!r} is not in the project's input_spec "
                        f"(known fields: {', '.join(sorted(self.known))})",
                    )
        return errors

    def validate_task(self, task: Any) -> dict[str, Error] | None:
        """Return field path -> error for one task object, or None when valid."""
        if not isinstance(task, dict):
            return {"": _error("INVALID_TYPE", f"A task must be an object, got {type(task).__name__}")}
        errors = self.validate_input_values(task.get("input_values"))
        overlap = task.get("overlap")
        if overlap is not None and (not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 1):
            errors = errors or {}
            errors["overlap"] = _error("VALUE_LESS_THAN_MIN", "overlap must be an integer >= 1")
        return errors


def format_errors(errors: Mapping[str, Error], limit: int = 5) -> str:
    """Render field path -> error as one readable line."""
    parts = [f"{path or 'task'}: {err.get('code')} ({err.get('message')})" for path, err in errors.items()]
    more = f"; and {len(parts) - limit} more" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more
