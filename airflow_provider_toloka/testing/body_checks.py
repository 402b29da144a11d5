"""Checks of small request bodies (skills, patches, trainings, ...) with the API's field error codes.

Each check adds ``{field: {"code", "message"}}`` to an error dict; ``raise_if_any`` turns a non-empty
dict into the API's 400 VALIDATION_ERROR.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_provider_toloka.testing.errors import field_error, validation_error

Errors = dict[str, dict[str, str]]


def require_object(body: Any) -> dict[str, Any]:
    """The body as an object, or 400 with ``OBJECT_EXPECTED``."""
    if not isinstance(body, dict):
        raise validation_error({"": field_error("OBJECT_EXPECTED", "The body must be a JSON object")})
    return body


def raise_if_any(errors: Errors) -> None:
    """Raise 400 VALIDATION_ERROR when ``errors`` is not empty."""
    if errors:
        raise validation_error(errors)


def refuse_unknown(body: dict[str, Any], allowed: Iterable[str], errors: Errors) -> None:
    """``VALUE_NOT_ALLOWED`` "Unknown field name" for each field outside ``allowed``."""
    known = set(allowed)
    for name in body:
        if name not in known:
            errors[name] = field_error("VALUE_NOT_ALLOWED", "Unknown field name")


def check_required(body: dict[str, Any], names: Iterable[str], errors: Errors) -> None:
    """``VALUE_REQUIRED`` for each missing (or null) field."""
    for name in names:
        if body.get(name) is None:
            errors[name] = field_error("VALUE_REQUIRED", f"{name} is required")


def check_int(body: dict[str, Any], name: str, errors: Errors, minimum: int | None, maximum: int | None) -> None:
    """An optional integer within ``[minimum, maximum]`` (``None``: unbounded)."""
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = field_error("INTEGER_EXPECTED", f"{name} must be an integer")
    else:
        _check_bounds(name, value, errors, minimum, maximum)


def check_number(body: dict[str, Any], name: str, errors: Errors, minimum: float | None, maximum: float | None) -> None:
    """An optional number within ``[minimum, maximum]``."""
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors[name] = field_error("FLOAT_EXPECTED", f"{name} must be a number")
    else:
        _check_bounds(name, value, errors, minimum, maximum)


def _check_bounds(name: str, value: float, errors: Errors, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        errors[name] = field_error("VALUE_LESS_THAN_MIN", f"{name} must be at least {minimum}")
    elif maximum is not None and value > maximum:
        errors[name] = field_error("VALUE_GREATER_THAN_MAX", f"{name} must be at most {maximum}")


def check_types(body: dict[str, Any], types: dict[str, type], errors: Errors) -> None:
    """Optional fields of simple JSON types: ``bool``, ``str``, ``dict`` or ``list``."""
    codes = {bool: "BOOLEAN_EXPECTED", str: "STRING_EXPECTED", dict: "OBJECT_EXPECTED", list: "ARRAY_EXPECTED"}
    for name, kind in types.items():
        value = body.get(name)
        if value is not None and not isinstance(value, kind):
            errors[name] = field_error(codes[kind], f"{name} must be a {kind.__name__}")
