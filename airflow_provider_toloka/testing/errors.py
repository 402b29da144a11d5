"""API errors of the emulator and their JSON body ``{request_id, code, message, payload}``."""

from __future__ import annotations

import json
import uuid
from typing import Any


class ApiError(Exception):
    """An error answer of the emulated API.

    :param status: HTTP status code.
    :param code: Toloka error code, e.g. ``VALIDATION_ERROR``.
    :param message: human-readable message.
    :param payload: structured details (field errors, quota interval, ...).
    :param headers: extra response headers, e.g. ``Retry-After``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        payload: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.payload = payload
        self.headers = headers or {}

    def body(self) -> bytes:
        """The serialized JSON error body."""
        return error_body(self.code, self.message, self.payload)


def error_body(code: str, message: str, payload: Any = None) -> bytes:
    """Serialize one error answer with a fresh ``request_id`` (a UUID); ``payload`` only when there is one."""
    body: dict[str, Any] = {"request_id": str(uuid.uuid4()), "code": code, "message": message}
    if payload is not None:
        body["payload"] = payload
    return json.dumps(body).encode()


def field_error(code: str, message: str) -> dict[str, str]:
    """One field error ``{code, message}`` of a VALIDATION_ERROR payload."""
    return {"code": code, "message": message}


def validation_error(payload: dict[str, Any], message: str = "Validation failed") -> ApiError:
    """400 VALIDATION_ERROR with field path (or item index) -> error in ``payload``."""
    return ApiError(400, "VALIDATION_ERROR", message, payload)


def does_not_exist(kind: str, object_id: str) -> ApiError:
    """404 DOES_NOT_EXIST for an object of ``kind`` (project, pool, ...)."""
    return ApiError(404, "DOES_NOT_EXIST", f"{kind} {object_id} does not exist", None)
