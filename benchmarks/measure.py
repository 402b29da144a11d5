"""Process measurements (standard library only): CPU seconds, wall time and peak RSS of this process."""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def rss_mb() -> float:
    """The current resident set size in MiB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """The peak resident set size of this process so far in MiB: ``VmHWM``.

    Not ``ru_maxrss``: Linux carries it over from the parent across fork and execve, so a worker
    started by a big orchestrator would report the orchestrator's size.
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Meter:
    """CPU (user + sys of this process) and wall time between ``start`` and ``stop``, and peak RSS.

    The baseline RSS is read at ``start``: the interpreter with every import done.
    """

    def start(self) -> Meter:
        self.baseline_rss = rss_mb()
        self.baseline_peak = peak_rss_mb()
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        self._wall = time.perf_counter()
        return self

    def stop(self, **extra: Any) -> dict[str, Any]:
        wall = time.perf_counter() - self._wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        user = usage.ru_utime - self._usage.ru_utime
        system = usage.ru_stime - self._usage.ru_stime
        peak = peak_rss_mb()
        return {
            "cpu_s": user + system,
            "cpu_user_s": user,
            "cpu_sys_s": system,
            "wall_s": wall,
            "baseline_rss_mb": self.baseline_rss,
            "peak_rss_mb": peak,
            "peak_over_baseline_mb": peak - max(self.baseline_rss, 0.0),
            **extra,
        }


def emit(result: dict[str, Any]) -> None:
    """Print the worker's result as the last line of its output."""
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def parse_result(output: str) -> dict[str, Any]:
    """The result a worker printed with :func:`emit`."""
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise ValueError(f"no RESULT line in the worker's output: {output[-2000:]!r}")
