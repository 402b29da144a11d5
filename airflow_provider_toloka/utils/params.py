"""Helpers shared by the operators and sensors: config loading, ids, expiry, trigger events."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from typing import Any

_RELATIVE = re.compile(r"^\+\s*(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def load_config(value: Any, field: str, base_dir: str | None = None) -> dict[str, Any]:
    """A config given as a dict, a JSON string, or a path to a .json file.

    :param field: the parameter's name, for error messages.
    :param base_dir: where relative paths are looked up first (e.g. the DAG file's folder).
    :raises ValueError: naming the field, and the file and line for bad JSON.
    """
    if isinstance(value, dict):
        return dict(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a dict, a JSON string or a path to a .json file, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{field} is not valid JSON: {exc}") from None
        source = field
    else:
        path = resolve_path(text, base_dir)
        if path is None:
            raise ValueError(
                f"{field}: file {text!r} not found (looked in {base_dir or '.'} and the working directory)"
            )
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
        except ValueError as exc:
            raise ValueError(f"{field}: {path} is not valid JSON: {exc}") from None
        source = path
    if not isinstance(loaded, dict):
        raise ValueError(f"{field}: {source} must hold a JSON object")
    return loaded


def resolve_path(path: str, base_dir: str | None = None) -> str | None:
    """An existing file: absolute, relative to ``base_dir``, or to the working directory."""
    candidates = [path] if os.path.isabs(path) else [os.path.join(base_dir, path)] if base_dir else []
    candidates.append(path)
    return next((c for c in candidates if os.path.isfile(c)), None)


def expiry(value: Any, now: datetime | None = None) -> str:
    """An absolute ``will_expire`` in UTC ISO format from a datetime, an ISO string or ``"+7d"``.

    Relative forms: ``+<number><unit>`` with unit s, m, h, d or w, counted from now.
    """
    now = now or datetime.now(timezone.utc)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and (match := _RELATIVE.match(value.strip())):
        moment = now + timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"will_expire {value!r} is neither an ISO date-time nor a relative time such as '+7d' or '+12h'"
            ) from None
    else:
        raise ValueError(f"will_expire must be a datetime or a string, got {type(value).__name__}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds")


def operation_ids_of(value: Any) -> list[str]:
    """One id, a list of ids, or a JSON list rendered by a template, as a list of strings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = json.loads(text)
        else:
            return [text] if text else []
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    raise ValueError(f"operation_id must be an id or a list of ids, got {type(value).__name__}")


def raise_for_event(event: dict[str, Any] | None) -> dict[str, int]:
    """The totals of a trigger's success event; otherwise fail the task with the event's message."""
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    if not event:
        raise AirflowException("The trigger fired no event")
    status = event.get("status")
    if status == "success":
        return event.get("totals") or {}
    message = event.get("message") or f"Toloka operations ended with status {status}"
    if status == "failed":
        raise AirflowFailException(message)
    raise AirflowException(message)
