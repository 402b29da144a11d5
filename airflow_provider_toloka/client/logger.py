"""What the client needs of a logger: the standard library's, or Airflow's structured one."""

from __future__ import annotations

from typing import Any, Protocol


class LoggerLike(Protocol):
    """A logger with the standard ``%s``-style methods (``logging.Logger`` and Airflow's task logger)."""

    def debug(self, msg: str, /, *args: Any, **kwargs: Any) -> Any: ...

    def info(self, msg: str, /, *args: Any, **kwargs: Any) -> Any: ...

    def warning(self, msg: str, /, *args: Any, **kwargs: Any) -> Any: ...
