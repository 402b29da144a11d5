"""Progress of long uploads: tasks sent, rate and ETA, logged at a steady cadence."""

from __future__ import annotations

import time

from airflow_provider_toloka.client.logger import LoggerLike


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s"
        if seconds >= 3600
        else (f"{seconds // 60}m{seconds % 60:02d}s")
    )


class UploadProgress:
    """Logs ``sent/total tasks, rate, ETA`` at most every ``every`` seconds, and a final line.

    :param total: the number of tasks when known (for the ETA).
    """

    def __init__(self, logger: LoggerLike, total: int | None = None, every: float = 10.0) -> None:
        self.log = logger
        self.total = total
        self.every = every
        self.started = self.last = time.monotonic()
        self.sent = 0
        self.batches = 0

    def rate(self) -> float:
        """Tasks a second since the start."""
        return self.sent / max(time.monotonic() - self.started, 1e-9)

    def advance(self, count: int) -> None:
        """Count one more batch of ``count`` tasks and log if it is time."""
        self.sent += count
        self.batches += 1
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            rate = self.rate()
            if self.total:
                eta = _duration((self.total - self.sent) / rate) if rate > 0 else "?"
                self.log.info(
                    "Uploaded %s/%s tasks in %s batches (%.0f tasks/s, ETA %s)",
                    self.sent,
                    self.total,
                    self.batches,
                    rate,
                    eta,
                )
            else:
                self.log.info("Uploaded %s tasks in %s batches (%.0f tasks/s)", self.sent, self.batches, rate)

    def finish(self) -> None:
        """Log the summary line."""
        elapsed = time.monotonic() - self.started
        self.log.info(
            "Uploaded %s tasks in %s batches in %.1fs (%.0f tasks/s)", self.sent, self.batches, elapsed, self.rate()
        )
