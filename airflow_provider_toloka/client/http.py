"""The synchronous transport: one pooled requests.Session, timeouts, bounded retries."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from airflow_provider_toloka.client.config import ClientConfig
from airflow_provider_toloka.client.errors import TolokaApiError, TolokaNetworkError, api_error_from_response
from airflow_provider_toloka.client.logger import LoggerLike
from airflow_provider_toloka.client.retry import RetryState

log = logging.getLogger(__name__)


def decode_body(content: bytes) -> Any:
    """The JSON of an error response, or its text when it is not JSON."""
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:1000]


def success_body(status: int, content: bytes, method: str, path: str) -> Any:
    """The JSON of a successful answer (None when empty).

    :raises TolokaApiError: when it is not JSON: the base URL is not the Toloka API (or a proxy answered).
    """
    if status == 204 or not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        raise TolokaApiError(
            status,
            "INVALID_RESPONSE",
            f"the answer is not JSON ({decode_body(content)[:100]!r}); check that the connection's host "
            "is the Toloka API's base URL",
            method=method,
            path=path,
        ) from None


def network_error(
    method: str, path: str, base_url: str, attempts: int, exc: BaseException, may_have_applied: bool
) -> TolokaNetworkError:
    """The error for a request that got no answer; a TLS failure is named as such.

    :param may_have_applied: whether the request may have reached the server and changed something.
    """
    if is_tls_failure(exc):
        return TolokaNetworkError(
            f"{method} {path}: the TLS handshake with {base_url} failed ({_reason(exc)}). If that host serves "
            "plain HTTP (like the emulator), write its URL with http://; otherwise check its certificate"
        )
    message = (
        f"{method} {path}: no answer from Toloka at {base_url} after {attempts} attempt(s) "
        f"({type(exc).__name__}). Check the connection's host/environment and the network"
    )
    if may_have_applied:
        message += "; the request may or may not have taken effect"
    return TolokaNetworkError(message)


def is_tls_failure(exc: BaseException) -> bool:
    """Whether a network error is a TLS (certificate or protocol) failure, which no retry can fix."""
    import ssl

    seen: set[int] = set()
    current: Any = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ssl.SSLError, requests.exceptions.SSLError)):
            return True
        current = current.__cause__ or current.__context__ or (current.args[0] if current.args else None)
        if not isinstance(current, BaseException):
            return False
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether a network error happened before the request could reach the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    current: Any = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in ("NewConnectionError", "NameResolutionError", "ConnectionRefusedError"):
            return True
        current = getattr(current, "reason", None) or (current.args[0] if getattr(current, "args", None) else None)
        if isinstance(current, str):
            return False
    return False


class HttpTransport:
    """Sends requests to the Toloka API and turns answers into JSON or typed errors.

    :param config: where and how to connect.
    :param logger: where retries are reported.
    """

    def __init__(self, config: ClientConfig, logger: LoggerLike | None = None) -> None:
        self.config = config
        self.log: LoggerLike = logger or log
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(config.headers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.base_url!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request, retrying as the policy allows, and return the decoded JSON.

        :param idempotent: whether a repeat is harmless; by default only GET is.
        :return: the JSON body, or None for 204 and empty answers.
        :raises TolokaApiError: for an error answer (a subclass by status).
        :raises TolokaNetworkError: when the API stays unreachable.
        """
        if json_body is not None:
            data = json.dumps(json_body).encode()
        state = RetryState(self.config.retry, method == "GET" if idempotent is None else idempotent)
        url = self.config.api_url + path
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self.session.request(method, url, params=params, data=data, timeout=self.config.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                sent = not _never_sent(exc)
                delay = None if is_tls_failure(exc) else state.after_exception(sent=sent)
                if delay is None:
                    unsafe = sent and not state.retry_unsafe
                    raise network_error(method, path, self.config.base_url, attempts, exc, unsafe) from None
                self.log.warning("%s %s failed (%s); retrying in %.1fs", method, path, type(exc).__name__, delay)
                time.sleep(delay)
                continue
            status = response.status_code
            if status < 400:
                return success_body(status, response.content, method, path)
            body = decode_body(response.content)
            delay = state.after_status(status, response.headers, body, method, path)
            if delay is None:
                raise api_error_from_response(status, body, method, path)
            self.log.warning("%s %s answered %s; retrying in %.1fs", method, path, status, delay)
            time.sleep(delay)
