"""Timestamps in the API's format ``YYYY-MM-DDThh:mm:ss.sss`` (UTC, no offset)."""

from __future__ import annotations

from datetime import datetime, timezone


def iso_utc(timestamp: float) -> str:
    """Format a POSIX timestamp as the API does, with milliseconds."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def parse_time(text: str) -> float:
    """Parse an ISO 8601 date-time (naive means UTC) into a POSIX timestamp.

    :raises ValueError: when ``text`` is not ISO 8601.
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
