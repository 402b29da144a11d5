"""The Toloka API client: no Airflow in it. Names are imported lazily to keep imports cheap."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TolokaClient": "client",
    "UploadResult": "client",
    "AsyncTolokaClient": "async_client",
    "ClientConfig": "config",
    "RetryPolicy": "config",
    "InputValidator": "validation",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = sorted(_EXPORTS)
