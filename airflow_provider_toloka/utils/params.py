"""Pure helpers that turn operator arguments into what the client takes: configs, paths, ids, expiry.

They raise :class:`TolokaValidationError` (a ``ValueError``) naming the argument, so a bad
argument fails the task at once instead of being retried.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_toloka.client.errors import TolokaValidationError

_RELATIVE = re.compile(r"^\+\s*(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def load_config(value: Any, field: str, base_dir: str | None = None) -> dict[str, Any]:
    """A config given as a dict, a JSON string, or a path to a .json file.

    :param field: the parameter's name, for error messages.
    :param base_dir: where relative paths are looked up first (e.g. the DAG file's folder).
    :raises TolokaValidationError: naming the field, and the file and line for bad JSON.
    """
    if isinstance(value, dict):
        return dict(value)
    if not isinstance(value, str) or not value.strip():
        raise TolokaValidationError(
            f"{field} must be a dict, a JSON string or a path to a .json file, got {type(value).__name__}"
        )
    text = value.strip()
    if text.startswith("["):
        raise TolokaValidationError(f"{field} is a JSON array; it must be one JSON object (a dict), or a .json file")
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise TolokaValidationError(f"{field} is not valid JSON: {exc}") from None
        source = field
    else:
        path = resolve_path(text, base_dir)
        if path is None:
            raise TolokaValidationError(
                f"{field}: file {text!r} not found (looked in {base_dir or '.'} and the working directory)"
            )
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
        except ValueError as exc:
            raise TolokaValidationError(f"{field}: {path} is not valid JSON: {exc}") from None
        source = path
    if not isinstance(loaded, dict):
        raise TolokaValidationError(f"{field}: {source} must hold a JSON object")
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
            raise TolokaValidationError(
                f"will_expire {value!r} is neither an ISO date-time nor a relative time such as '+7d' or '+12h'"
            ) from None
    else:
        raise TolokaValidationError(f"will_expire must be a datetime or a string, got {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if moment <= now:
        raise TolokaValidationError(
            f"will_expire {value!r} is in the past; give a later time or a relative one such as '+7d'"
        )
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds")


def operation_ids_of(value: Any, field: str = "operation_ids") -> list[str]:
    """One id, a list of ids, or a JSON list rendered by a template, as a non-empty list of strings."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise TolokaValidationError(f"{field} is not a valid JSON list: {exc}") from None
    if isinstance(value, (list, tuple)):
        ids = [object_id(item, field) for item in value]
        if not ids:
            raise TolokaValidationError(f"{field} is empty: the upstream upload sent nothing to wait for")
        return ids
    return [object_id(value, field)]


def object_id(value: Any, field: str) -> str:
    """A project, pool or operation id as a string.

    :raises TolokaValidationError: for an empty value, such as an upstream task that returned nothing.
    """
    text = "" if value is None else str(value).strip()
    if text in ("", "None", "null"):
        raise TolokaValidationError(
            f"{field} is empty ({value!r}): pass an id, or the output of the task that created it"
        )
    return text


def optional_int(value: Any, field: str, minimum: int = 1) -> int | None:
    """An integer argument that may be templated (``"3"``) or left empty (None or ``""``).

    :raises TolokaValidationError: naming the field, for a value that is not a whole number >= minimum.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise TolokaValidationError(f"{field} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise TolokaValidationError(f"{field} must be at least {minimum}, got {number}")
    return number


def task_file(value: str, base_dir: str | None = None) -> Any:
    """The tasks file a path or URL names.

    A local path is looked up like :func:`resolve_path`; a URL such as ``s3://bucket/tasks.jsonl``
    or ``file:///data/tasks.jsonl`` becomes an ``ObjectStoragePath``.

    :raises TolokaValidationError: naming the file when it does not exist.
    """
    text = value.strip()
    if "://" in text:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        path = ObjectStoragePath(text)
        if not path.is_file():
            raise TolokaValidationError(f"tasks: file {text!r} not found")
        return path
    found = resolve_path(text, base_dir)
    if found is None:
        raise TolokaValidationError(
            f"tasks: file {text!r} not found (looked in {base_dir or '.'} and the working directory)"
        )
    return found
