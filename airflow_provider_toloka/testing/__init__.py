"""Local emulator of the Toloka API, for tests and demos (like moto for AWS).

``TolokaEmulator`` serves it from a thread of the current process, ``EmulatorProcess`` from a
child process (so its CPU is not counted in yours); ``toloka-emulator`` (or ``python -m
airflow_provider_toloka.testing.emulator``) is the command line. The API lives under
``{url}/api/v1``; state is in memory (``emulator.state``)::

    from airflow_provider_toloka.testing import TolokaEmulator

    with TolokaEmulator(token="secret", operation_delay=0.1, fail_rate=0.05, seed=1) as emulator:
        run_my_pipeline(url=emulator.url, token="secret")
        assert emulator.state.task_count() == 1000

Behaviour: quotas use a fixed window (``quota_window`` seconds from its first use); task ids are
UUID-shaped zero-padded counters that sort in creation order; asynchronous operations finish by
the clock and their effects are applied at the start of the next request; see ``state.py``,
``faults.py`` and ``limits.py``. Importing this package is cheap: FastAPI and uvicorn are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_toloka.testing.config import EmulatorConfig
    from airflow_provider_toloka.testing.process import EmulatorProcess
    from airflow_provider_toloka.testing.server import TolokaEmulator
    from airflow_provider_toloka.testing.state import EmulatorState

_EXPORTS = {
    "TolokaEmulator": "airflow_provider_toloka.testing.server",
    "EmulatorProcess": "airflow_provider_toloka.testing.process",
    "EmulatorConfig": "airflow_provider_toloka.testing.config",
    "EmulatorState": "airflow_provider_toloka.testing.state",
}

__all__ = ["EmulatorConfig", "EmulatorProcess", "EmulatorState", "TolokaEmulator"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
