"""Validation of task input values against a project's ``input_spec``.

One compiled validator serves both the client (which checks every task locally before the
first request) and the emulator (which answers as the API does), so both agree on every rule.
The validator is built once per spec and is cheap per task: it sits on the upload hot path.

Error codes are the API's. Sources: the reference's example ``responses/api/task-post.yaml``
(``VALUE_REQUIRED`` "Value must be present and not equal to null"); the official client's answers
recorded from the API in its tests (``VALUE_NOT_ALLOWED`` "Unknown field name") and its list of
validation codes (``toloka/client/error_codes.py::ValidationErrorCodes``: the ``*_EXPECTED``,
``STRING_LENGTH_*``, ``VALUE_*_THAN_*`` and ``INVALID_*_SYNTAX`` codes); ``TaskFormV1.overlap`` of
``fullApi.yaml`` (1 to 30000).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
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
#: The code of a value of the wrong type, by field type.
EXPECTED_CODES = {
    "string": "STRING_EXPECTED",
    "url": "STRING_EXPECTED",
    "file": "STRING_EXPECTED",
    "coordinates": "STRING_EXPECTED",
    "integer": "INTEGER_EXPECTED",
    "float": "FLOAT_EXPECTED",
    "boolean": "BOOLEAN_EXPECTED",
    "json": "JSON_EXPECTED",
}
#: ``TaskFormV1.overlap`` bounds in ``fullApi.yaml``.
MIN_OVERLAP, MAX_OVERLAP = 1, 30000
REQUIRED_MESSAGE = "Value must be present and not equal to null"
UNKNOWN_FIELD_MESSAGE = "Unknown field name"

#: An absolute URL: a scheme, ``://``, a host, no whitespace (the API's exact rule is not published).
URL_SYNTAX = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#]+[^\s]*")
#: "latitude,longitude" in decimal degrees, as the reference's example "53.910236, 27.531110".
COORDINATES_SYNTAX = re.compile(r"\s*[-+]?\d+(?:\.\d+)?\s*,\s*[-+]?\d+(?:\.\d+)?\s*")
_SYNTAX = {
    "url": (URL_SYNTAX, "INVALID_URL_SYNTAX", "an absolute URL such as https://example.com/image.jpg"),
    "coordinates": (COORDINATES_SYNTAX, "INVALID_COORDINATES_SYNTAX", 'coordinates such as "53.910236, 27.531110"'),
}

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
    """Compile the checks of one scalar value: type, syntax, allowed values, bounds, lengths."""
    accepted = SCALAR_TYPES[type_name]
    expected = EXPECTED_CODES[type_name]
    numeric = type_name in ("integer", "float")
    textual = accepted == (str,)
    syntax = _SYNTAX.get(type_name)
    allowed = spec.get("allowed_values") if type_name != "json" else None  # lists of strings or integers
    allowed_set = frozenset(allowed) if allowed else None
    min_value, max_value = spec.get("min_value"), spec.get("max_value")
    min_length, max_length = spec.get("min_length"), spec.get("max_length")
    rejects_bool = bool not in accepted and type_name != "json"

    def check(value: Any) -> Error | None:
        if not isinstance(value, accepted) or (rejects_bool and isinstance(value, bool)):
            return _error(expected, f"Expected {type_name}, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            return _error(expected, f"Expected a finite {type_name}, got {value}: JSON has no NaN or Infinity")
        if syntax is not None and syntax[0].fullmatch(cast("str", value)) is None:
            return _error(syntax[1], f"Expected {syntax[2]}, got {value!r}")
        if allowed_set is not None and value not in allowed_set:
            return _error("VALUE_NOT_ALLOWED", f"Value {value!r} is not one of {sorted(map(str, allowed or ()))}")
        if numeric:
            if min_value is not None and value < min_value:
                return _error("VALUE_LESS_THAN_MIN", f"Value {value} is less than min_value {min_value}")
            if max_value is not None and value > max_value:
                return _error("VALUE_GREATER_THAN_MAX", f"Value {value} is greater than max_value {max_value}")
        elif textual:
            length = len(cast("str", value))
            if min_length is not None and length < min_length:
                return _error("STRING_LENGTH_LESS_THAN_MIN", f"Length {length} is less than min_length {min_length}")
            if max_length is not None and length > max_length:
                return _error(
                    "STRING_LENGTH_GREATER_THAN_MAX", f"Length {length} is greater than max_length {max_length}"
                )
        return None

    return check


def _array_check(item_check: Check) -> Check:
    def check(value: Any) -> Error | None:
        if not isinstance(value, list):
            return _error("ARRAY_EXPECTED", f"Expected an array, got {type(value).__name__}")
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
            errors[path] = _error("OBJECT_EXPECTED", "A field spec must be an object with a 'type'")
        elif normalize_type(field.get("type")) is None:
            errors[f"{path}.type"] = _error(
                "VALUE_NOT_ALLOWED",
                f"Unknown type {field.get('type')!r}; use one of {', '.join(sorted(FIELD_TYPES))}",
            )
    return errors


class InputValidator:
    """Validates ``input_values`` of tasks against one project's ``input_spec``.

    Two ways in, with the same rules: :meth:`validate_task` explains one task's errors (the
    emulator's and the error messages' path); :meth:`invalid_positions` finds the invalid tasks of a
    list in one call of a function compiled for the spec (the upload's path), then explains only those.

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
        self._suspects = compile_suspects(input_spec)

    def validate_input_values(self, input_values: Any) -> dict[str, Error] | None:
        """Return field path -> error for one task's ``input_values``, or None when valid."""
        if input_values is None:
            return {"input_values": _error("VALUE_REQUIRED", REQUIRED_MESSAGE)}
        if not isinstance(input_values, dict):
            return {"input_values": _error("OBJECT_EXPECTED", f"Expected an object, got {type(input_values).__name__}")}
        errors: dict[str, Error] | None = None
        for name, path, required, check in self.fields:
            value = input_values.get(name)
            if value is None:
                if required:
                    errors = errors or {}
                    errors[path] = _error("VALUE_REQUIRED", REQUIRED_MESSAGE)
                continue
            problem = check(value)
            if problem is not None:
                errors = errors or {}
                errors[path] = problem
        if not self.known.issuperset(input_values):
            errors = errors or {}
            for name in input_values:
                if name not in self.known:
                    errors[f"input_values.{name}"] = _error("VALUE_NOT_ALLOWED", UNKNOWN_FIELD_MESSAGE)
        return errors

    def validate_task(self, task: Any) -> dict[str, Error] | None:
        """Return field path -> error for one task object, or None when valid."""
        if not isinstance(task, dict):
            return {"": _error("OBJECT_EXPECTED", f"A task must be an object, got {type(task).__name__}")}
        errors = self.validate_input_values(task.get("input_values"))
        overlap = task.get("overlap")
        if overlap is not None:
            problem = _overlap_error(overlap)
            if problem is not None:
                errors = errors or {}
                errors["overlap"] = problem
        return errors

    def invalid_positions(self, tasks: Sequence[Any]) -> list[tuple[int, dict[str, Error]]]:
        """The invalid tasks of ``tasks``: (position in ``tasks``, errors), in order.

        Valid tasks cost one pass of the compiled function; only its suspects are explained.
        """
        found = []
        for position in self._suspects(tasks):
            problem = self.validate_task(tasks[position])
            if problem:
                found.append((position, problem))
        return found


def _overlap_error(overlap: Any) -> Error | None:
    if not isinstance(overlap, int) or isinstance(overlap, bool):
        return _error("INTEGER_EXPECTED", f"overlap must be an integer, got {type(overlap).__name__}")
    if overlap < MIN_OVERLAP:
        return _error("VALUE_LESS_THAN_MIN", f"overlap must be at least {MIN_OVERLAP}")
    if overlap > MAX_OVERLAP:
        return _error("VALUE_GREATER_THAN_MAX", f"overlap must be at most {MAX_OVERLAP}")
    return None


# --- the compiled check of a whole list -----------------------------------------------------------
#
# For each field, one Python expression that is true only for a value the field accepts (exact types,
# so it is never looser than the checks above; a value it does not recognize, such as a str subclass,
# only costs a call of validate_task). The expressions are joined into one function per spec.


def _value_test(type_name: str, spec: Mapping[str, Any], value: str, constant: Callable[[Any], str]) -> str:
    """The expression that is true when ``value`` (a variable name) is a valid value of the field."""
    if type_name.startswith("array_"):
        item = _value_test(type_name[len("array_") :], spec, "item", constant)
        return f"({value}.__class__ is list and all({item} for item in {value}))"
    tests: list[str]
    if type_name in ("string", "url", "file", "coordinates"):
        tests = [f"{value}.__class__ is str"]
        if type_name in _SYNTAX:
            tests.append(f"{constant(_SYNTAX[type_name][0].fullmatch)}({value}) is not None")
        if spec.get("min_length") is not None:
            tests.append(f"len({value}) >= {constant(spec['min_length'])}")
        if spec.get("max_length") is not None:
            tests.append(f"len({value}) <= {constant(spec['max_length'])}")
    elif type_name in ("integer", "float"):
        tests = [f"{value}.__class__ is int"]
        if type_name == "float":
            tests = [
                f"({value}.__class__ is int or ({value}.__class__ is float and {constant(math.isfinite)}({value})))"
            ]
        if spec.get("min_value") is not None:
            tests.append(f"{value} >= {constant(spec['min_value'])}")
        if spec.get("max_value") is not None:
            tests.append(f"{value} <= {constant(spec['max_value'])}")
    elif type_name == "boolean":
        tests = [f"{value}.__class__ is bool"]
    else:  # json
        return f"({value}.__class__ in {constant(frozenset(SCALAR_TYPES['json']))})"
    if spec.get("allowed_values"):
        tests.append(f"{value} in {constant(frozenset(spec['allowed_values']))}")
    return "(" + " and ".join(tests) + ")"


def compile_suspects(input_spec: Mapping[str, Any]) -> Callable[[Sequence[Any]], list[int]]:
    """Compile ``suspects(tasks)``: the positions of the tasks that may be invalid for ``input_spec``.

    Every invalid task is among them; a valid task is among them only when its values are of
    unusual classes (subclasses of str, int, list...).
    """
    constants: dict[str, Any] = {}

    def constant(value: Any) -> str:
        name = f"_c{len(constants)}"
        constants[name] = value
        return name

    lines = [
        "def suspects(tasks):",
        "    found = []",
        "    for position, task in enumerate(tasks):",
        "        values = task.get('input_values') if task.__class__ is dict else None",
        "        if values.__class__ is not dict:",
        "            found.append(position)",
        "            continue",
    ]
    for name, field in input_spec.items():
        type_name = normalize_type(field["type"])
        assert type_name is not None
        missing_ok = "True" if field.get("required", True) is False else "False"
        lines += [
            f"        value = values.get({constant(name)})",
            f"        if not ({missing_ok} if value is None else {_value_test(type_name, field, 'value', constant)}):",
            "            found.append(position)",
            "            continue",
        ]
    lines += [
        f"        if not {constant(frozenset(input_spec))}.issuperset(values):",
        "            found.append(position)",
        "            continue",
        "        overlap = task.get('overlap')",
        "        if overlap is not None and not (overlap.__class__ is int and",
        f"                                        {MIN_OVERLAP} <= overlap <= {MAX_OVERLAP}):",
        "            found.append(position)",
        "    return found",
    ]
    namespace: dict[str, Any] = dict(constants)
    exec(compile("\n".join(lines), "<input_spec check>", "exec"), namespace)
    suspects: Callable[[Sequence[Any]], list[int]] = namespace["suspects"]
    return suspects


def format_errors(errors: Mapping[str, Error], limit: int = 5) -> str:
    """Render field path -> error as one readable line."""
    parts = [f"{path or 'task'}: {err.get('code')} ({err.get('message')})" for path, err in errors.items()]
    more = f"; and {len(parts) - limit} more" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more
