"""Typed errors of the Toloka client. None of them ever carries the API key."""

from __future__ import annotations

from typing import Any


class TolokaError(Exception):
    """Base of every error raised by this package."""


class TolokaConfigError(TolokaError, ValueError):
    """The client or the connection is configured wrongly (missing key, bad URL, ...)."""


class TolokaValidationError(TolokaError, ValueError):
    """Local validation failed before any request was sent.

    :param message: what is wrong and how to fix it.
    :param errors: field path (or task index) -> ``{"code", "message"}``.
    """

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class TolokaNetworkError(TolokaError, ConnectionError):
    """The API could not be reached after the bounded retries."""


class TolokaOperationFailedError(TolokaError):
    """An asynchronous operation ended with status FAIL.

    :param operation: the failed operation.
    """

    def __init__(self, message: str, operation: Any = None) -> None:
        super().__init__(message)
        self.operation = operation


class TolokaOperationTimeoutError(TolokaError, TimeoutError):
    """An operation did not finish within the allowed time."""


class TolokaApiError(TolokaError):
    """The API answered with an error.

    :param status: HTTP status code.
    :param code: Toloka error code, e.g. ``DOES_NOT_EXIST``.
    :param message: Toloka's message.
    :param request_id: Toloka's request id, to quote to support.
    :param payload: the error's details, e.g. field paths for VALIDATION_ERROR.
    """

    hint = ""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
        payload: Any = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code or "UNKNOWN"
        self.message = message or ""
        self.request_id = request_id
        self.payload = payload
        self.method = method
        self.path = path
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.path}: " if self.path else ""
        text = f"{where}HTTP {self.status} {self.code}"
        if self.message:
            text += f": {self.message}"
        if self.payload:
            text += f" (details: {_short(self.payload)})"
        if self.hint:
            text += f". {self.hint}"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        return text


class TolokaApiValidationError(TolokaApiError):
    """The API rejected the request body (400 VALIDATION_ERROR)."""

    hint = "Fix the fields named in the details and send again"


class TolokaAuthenticationError(TolokaApiError):
    """The API key or OAuth token was refused (401/403)."""

    hint = (
        "Check the connection's password (the API key or OAuth token), its auth_scheme "
        "(ApiKey or OAuth) and that the key belongs to the chosen environment (sandbox or production)"
    )


class TolokaNotFoundError(TolokaApiError):
    """The object does not exist (404 DOES_NOT_EXIST)."""

    hint = "Check the id, and that it belongs to this environment and account"


class TolokaConflictError(TolokaApiError):
    """The object is in a state that does not allow the action (409)."""


class TolokaRateLimitError(TolokaApiError):
    """A quota or request rate was exceeded (429) beyond what the retries could wait out."""

    hint = "Slow down, or wait for the quota interval to pass"


class TolokaServerError(TolokaApiError):
    """The API failed on its side (5xx) after the bounded retries."""

    hint = "Toloka had a server error; the request was retried and may be retried again later"


_BY_STATUS: dict[int, type[TolokaApiError]] = {
    400: TolokaApiValidationError,
    401: TolokaAuthenticationError,
    403: TolokaAuthenticationError,
    404: TolokaNotFoundError,
    409: TolokaConflictError,
    429: TolokaRateLimitError,
}


def _short(value: Any, limit: int = 500) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def api_error_from_response(status: int, body: Any, method: str = "", path: str = "") -> TolokaApiError:
    """Build the typed error for an error response of the API.

    :param status: HTTP status code.
    :param body: the decoded JSON body, or the raw text when it was not JSON.
    """
    cls = _BY_STATUS.get(status, TolokaServerError if status >= 500 else TolokaApiError)
    if isinstance(body, dict):
        return cls(
            status,
            code=body.get("code"),
            message=body.get("message"),
            request_id=body.get("request_id"),
            payload=body.get("payload"),
            method=method,
            path=path,
        )
    return cls(status, message=_short(body or ""), method=method, path=path)


#: Statuses that a later try may not get again: the request timed out, or a quota or rate was hit.
TRANSIENT_STATUSES = frozenset({408, 429})


def is_permanent(exc: BaseException) -> bool:
    """True for errors that the same request cannot escape by trying again.

    Local validation, configuration, failed operations and the API's 4xx answers (bad request,
    authentication, not found, conflict) are permanent; network errors, 5xx, 408 and 429 are not.
    """
    if isinstance(exc, (TolokaConfigError, TolokaValidationError, TolokaOperationFailedError)):
        return True
    if isinstance(exc, TolokaApiError):
        return 400 <= exc.status < 500 and exc.status not in TRANSIENT_STATUSES
    return False
