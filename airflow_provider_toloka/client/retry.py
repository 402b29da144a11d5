"""The retry decision, shared by the sync (requests) and async (httpx) clients."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_toloka.client.config import RetryPolicy
from airflow_provider_toloka.client.errors import TolokaRateLimitError, api_error_from_response

#: Quota intervals of a 429 that are waited out (None: a plain rate limit); HOUR and DAY are raised at once.
WAITABLE_INTERVALS = frozenset({None, "MIN", "MINUTE", "SECOND"})
#: A quota wait is lengthened by up to this fraction (at least half a second), at random, so that
#: uploads that hit a quota together do not all come back at the same instant.
QUOTA_JITTER = 0.25


def quota_exhausted(interval: Any, headers: Any, body: Any, method: str, path: str) -> TolokaRateLimitError:
    """The error for an HOUR or DAY quota: not waited out, and saying when the quota resets.

    The reset time comes from ``Retry-After`` when the API sends it; an upload adds how much it had sent.
    """
    error = api_error_from_response(429, body, method, path)
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if retry_after is not None:
        resets = datetime.now(timezone.utc) + timedelta(seconds=retry_after)
        when = f"it resets in {retry_after:.0f}s, at {resets:%Y-%m-%d %H:%M:%S} UTC"
    else:
        when = f"it resets when the current {str(interval).lower()} is over"
    return TolokaRateLimitError(
        error.status,
        error.code,
        f"{error.message} (the {interval} quota is used up, not waited for: {when})",
        error.request_id,
        error.payload,
        method,
        path,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), or None."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


@dataclass
class RetryState:
    """Tracks one logical request across its attempts and says how long to wait before the next.

    :param policy: the retry policy.
    :param retry_unsafe: whether a failure that may have reached the server (5xx, read error) can be
        retried: True for reads and idempotent writes, False otherwise.
    """

    policy: RetryPolicy
    retry_unsafe: bool
    started: float = field(default_factory=time.monotonic)
    failures: int = 0
    quota_waited: float = 0.0

    def _within_budget(self, delay: float) -> bool:
        failing = time.monotonic() - self.started - self.quota_waited
        return failing + delay <= self.policy.max_total_seconds

    def after_exception(self, sent: bool) -> float | None:
        """Seconds to wait after a network error, or None to give up.

        :param sent: whether the request may have reached the server (False for connect errors).
        """
        if sent and not self.retry_unsafe:
            return None
        self.failures += 1
        if self.failures >= self.policy.max_attempts:
            return None
        delay = self.policy.backoff(self.failures)
        return delay if self._within_budget(delay) else None

    def after_status(self, status: int, headers: Any, body: Any, method: str, path: str) -> float | None:
        """Seconds to wait after an error status, or None to raise it.

        A 429 is waited out (``Retry-After``, else the backoff, plus jitter) while the quota-wait
        budget lasts, unless its quota interval is an hour or a day.
        """
        if status not in self.policy.retry_statuses:
            return None
        if status == 429:
            payload = body.get("payload") if isinstance(body, dict) else None
            interval = payload.get("interval") if isinstance(payload, dict) else None
            if interval not in WAITABLE_INTERVALS:
                raise quota_exhausted(interval, headers, body, method, path)
            retry_after = parse_retry_after(headers.get("Retry-After"))
            delay = retry_after if retry_after is not None else min(60.0, self.policy.backoff(self.failures + 1))
            delay += random.uniform(0.0, max(0.5, QUOTA_JITTER * delay))
            if self.quota_waited + delay > self.policy.max_quota_wait_seconds:
                error = api_error_from_response(status, body, method, path)
                budget = self.policy.max_quota_wait_seconds
                raise TolokaRateLimitError(
                    error.status,
                    error.code,
                    f"{error.message} (gave up: waiting for the quota would pass {budget:.0f}s in all)",
                    error.request_id,
                    error.payload,
                    method,
                    path,
                )
            self.quota_waited += delay
            return delay
        if not self.retry_unsafe:
            return None
        self.failures += 1
        if self.failures >= self.policy.max_attempts:
            return None
        delay = max(self.policy.backoff(self.failures), parse_retry_after(headers.get("Retry-After")) or 0.0)
        return delay if self._within_budget(delay) else None
