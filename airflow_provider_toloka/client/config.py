"""Client settings: where the API is, how to authenticate, timeouts and the retry policy."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_toloka.client.errors import TolokaConfigError

#: Base URLs of the Toloka environments (the API is under ``/api/v1``).
ENVIRONMENTS: dict[str, str] = {
    "sandbox": "https://sandbox.toloka.dev",
    "production": "https://toloka.dev",
}
AUTH_SCHEMES = ("ApiKey", "OAuth")
API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    :param max_attempts: attempts in all for one request failing with a network error or 5xx/408.
    :param backoff_base: first backoff in seconds; it doubles each attempt, with full jitter.
    :param backoff_max: cap of one backoff.
    :param max_total_seconds: bound on the time one request spends failing (network errors, 5xx).
    :param max_quota_wait_seconds: bound on the time one request spends waiting out per-second and
        per-minute quotas (429). These waits do not count against ``max_total_seconds``: the API is
        answering, and a busy quota shared by many uploads is progress delayed, not a failure.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_total_seconds: float = 600.0
    max_quota_wait_seconds: float = 3600.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise TolokaConfigError(f"max_attempts must be a whole number of at least 1, got {self.max_attempts!r}")
        for name in ("backoff_base", "backoff_max", "max_total_seconds", "max_quota_wait_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise TolokaConfigError(f"{name} must be a non-negative number of seconds, got {value!r}")

    def backoff(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (full jitter, at least a tenth of the cap)."""
        cap = min(self.backoff_max, self.backoff_base * (2 ** max(failures - 1, 0)))
        return cap * (0.1 + 0.9 * (rng or random).random())


@dataclass(frozen=True)
class ClientConfig:
    """Everything the HTTP clients need. The token never shows in ``repr`` or ``str``.

    :param token: the API key or OAuth token.
    :param base_url: the API's base URL, without ``/api/v1``.
    :param auth_scheme: ``ApiKey`` or ``OAuth``.
    :param connect_timeout: seconds to establish a connection.
    :param read_timeout: seconds to wait for a response.
    :param allow_insecure_http: allow plain ``http://`` to a host that is not this machine (the key
        would travel in clear text); loopback hosts such as the emulator need no permission.
    """

    token: str = field(repr=False)
    base_url: str = ENVIRONMENTS["sandbox"]
    auth_scheme: str = "ApiKey"
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    allow_insecure_http: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token.strip():
            raise TolokaConfigError(
                "The Toloka API key is missing or empty: put the API key (or OAuth token) in the "
                "connection's password field"
            )
        # a key read with $(cat keyfile) may end with a newline: strip it; never echo the key
        object.__setattr__(self, "token", self.token.strip())
        if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in self.token):
            raise TolokaConfigError(
                "The Toloka API key contains whitespace or control characters (such as a line break) "
                "inside it: paste the key again into the connection's password field"
            )
        if self.auth_scheme not in AUTH_SCHEMES:
            raise TolokaConfigError(f"Unknown auth_scheme {self.auth_scheme!r}: use one of {', '.join(AUTH_SCHEMES)}")
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise TolokaConfigError(f"{name} must be a positive number of seconds, got {value!r}")
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))
        host = urlsplit(self.base_url).hostname or ""
        if self.base_url.startswith("http://") and not is_loopback(host) and not self.allow_insecure_http:
            raise TolokaConfigError(
                f"Refusing plain http:// to {host}: the API key would travel unencrypted. Use https://, "
                "or set the connection's extra allow_insecure_http to true if this network is trusted"
            )

    @classmethod
    def from_settings(
        cls,
        token: str | None,
        environment: str | None = None,
        url: str | None = None,
        auth_scheme: str | None = None,
        **options: Any,
    ) -> ClientConfig:
        """Build a config from user-facing settings: an environment name or a URL override.

        :param environment: ``sandbox`` (default) or ``production``; ignored when ``url`` is given.
        :param url: a base URL override, e.g. ``http://127.0.0.1:8765``.
        """
        if url:
            base_url = url
        else:
            name = (environment or "sandbox").strip().lower()
            if name not in ENVIRONMENTS:
                raise TolokaConfigError(
                    f"Unknown environment {environment!r}: use one of {', '.join(ENVIRONMENTS)}, "
                    "or set a base URL in the connection's host"
                )
            base_url = ENVIRONMENTS[name]
        return cls(token=token or "", base_url=base_url, auth_scheme=auth_scheme or "ApiKey", **options)

    @property
    def api_url(self) -> str:
        """The URL that API paths such as ``/tasks`` are appended to."""
        return self.base_url + API_PREFIX

    @property
    def headers(self) -> dict[str, str]:
        """Headers sent with every request."""
        return {
            "Authorization": f"{self.auth_scheme} {self.token}",
            "Content-Type": "application/json",
            "User-Agent": "airflow-provider-toloka",
        }

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) timeouts in seconds."""
        return (self.connect_timeout, self.read_timeout)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost``, ``127.x.x.x``, ``::1``)."""
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: str) -> str:
    """Check a base URL and strip a trailing slash and ``/api/v1``.

    A URL without a scheme means ``http://`` for this machine (e.g. the emulator at
    ``127.0.0.1:8765``) and ``https://`` for any other host.

    :raises TolokaConfigError: when it is not an ``http(s)://host[:port][/path]`` URL.
    """
    text = (url or "").strip()
    if text and "://" not in text:
        host = urlsplit("//" + text).hostname or ""
        text = ("http://" if is_loopback(host) else "https://") + text
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or any(c.isspace() for c in text)
        or parts.query
        or parts.fragment
    ):
        raise TolokaConfigError(
            f"Malformed Toloka base URL {url!r}: expected e.g. https://sandbox.toloka.dev or "
            "http://127.0.0.1:8765 (the API is under /api/v1)"
        )
    text = text.rstrip("/")
    if text.endswith(API_PREFIX):
        text = text[: -len(API_PREFIX)]
    return text
