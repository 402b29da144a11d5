"""Fixed-window counters behind the emulator's quotas and its requests-per-second limit."""

from __future__ import annotations

import math


class FixedWindow:
    """Allow at most ``limit`` units per window of ``window`` seconds.

    A window opens with the first use after the previous one has ended (fixed, not sliding):
    the whole limit is available again once ``window`` seconds have passed since that first use.

    :param limit: units allowed per window.
    :param window: window length in seconds.
    """

    def __init__(self, limit: float, window: float) -> None:
        self.limit = limit
        self.window = window
        self.start: float | None = None
        self.used = 0.0

    def _roll(self, now: float) -> None:
        if self.start is None or now >= self.start + self.window:
            self.start = now
            self.used = 0.0

    def check(self, amount: float, now: float) -> float | None:
        """Return None when ``amount`` units fit in the current window, else seconds until it ends."""
        self._roll(now)
        if self.used + amount <= self.limit:
            return None
        assert self.start is not None
        return max(self.start + self.window - now, 0.0)

    def consume(self, amount: float, now: float) -> None:
        """Count ``amount`` units in the current window (call after a successful ``check``)."""
        self._roll(now)
        self.used += amount

    def acquire(self, amount: float, now: float) -> float | None:
        """``check`` then ``consume`` when it fits; returns what ``check`` returned."""
        wait = self.check(amount, now)
        if wait is None:
            self.used += amount
        return wait


def retry_after_header(wait: float) -> dict[str, str]:
    """The ``Retry-After`` header for a wait of ``wait`` seconds: whole seconds, at least 1."""
    return {"Retry-After": str(max(1, math.ceil(wait)))}


class Quota:
    """One API method's quotas: a fixed window per interval (``MIN``, ``HOUR``, ``DAY``), all counted together.

    :param what: what is counted, for the messages (e.g. ``task creation``).
    :param windows: interval name -> its window; a window with a negative limit is unlimited.
    """

    def __init__(self, what: str, windows: dict[str, FixedWindow]) -> None:
        self.what = what
        self.windows = {interval: window for interval, window in windows.items() if window.limit >= 0}

    def exceeded(self, amount: float, now: float) -> tuple[str, FixedWindow, float] | None:
        """The first interval ``amount`` more units would exceed, its window and the seconds until it resets."""
        for interval, window in self.windows.items():
            wait = window.check(amount, now)
            if wait is not None:
                return interval, window, wait
        return None

    def consume(self, amount: float, now: float) -> None:
        """Count ``amount`` units in every window (call after ``exceeded`` returned None)."""
        for window in self.windows.values():
            window.consume(amount, now)
