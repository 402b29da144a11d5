"""Local emulator of the Toloka API, for tests and demos (like moto for AWS).

``TolokaEmulator`` serves it from a thread of the current process, ``EmulatorProcess`` from a
child process; ``python -m airflow_provider_toloka.testing.emulator`` is the command line.
Importing this package is cheap: FastAPI and uvicorn are imported on first use.
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
