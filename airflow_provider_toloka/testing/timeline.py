"""Events of the emulator's simulated time, run in time order when a request brings the clock forward.

Nothing runs in the background: ``EmulatorState`` settles the timeline at the start of every request
(as it settles due operations), so the outcome depends only on the events and the seed, never on
thread timing, and work stops with the emulator.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

#: Called with the event's time; what it returns is ignored.
Action = Callable[[float], object]


class Timeline:
    """A queue of ``action(when)`` calls ordered by time, then by scheduling order."""

    def __init__(self) -> None:
        self._events: list[tuple[float, int, Action]] = []
        self._sequence = itertools.count()

    def schedule(self, when: float, action: Action) -> None:
        """Run ``action(when)`` once the clock reaches ``when``."""
        heapq.heappush(self._events, (when, next(self._sequence), action))

    def next_time(self) -> float | None:
        """Time of the earliest pending event (None when there is none)."""
        return self._events[0][0] if self._events else None

    def run_until(self, until: float) -> int:
        """Run every event due by ``until`` (also those the events schedule); returns how many ran."""
        ran = 0
        while self._events and self._events[0][0] <= until:
            when, _, action = heapq.heappop(self._events)
            action(when)
            ran += 1
        return ran

    def __len__(self) -> int:
        return len(self._events)
