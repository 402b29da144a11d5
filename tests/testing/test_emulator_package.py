"""The package API: cheap import, lazy exports, configuration checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_toloka.testing as testing
from airflow_provider_toloka.testing.config import EmulatorConfig


def test_import_does_not_load_the_web_stack() -> None:
    code = (
        "import sys, airflow_provider_toloka.testing as t\n"
        "heavy = [m for m in ('fastapi', 'uvicorn', 'starlette', 'pydantic') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "t.TolokaEmulator\n"
        "assert 'uvicorn' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)


def test_lazy_exports() -> None:
    assert testing.TolokaEmulator.__name__ == "TolokaEmulator"
    assert testing.EmulatorProcess.__name__ == "EmulatorProcess"
    with pytest.raises(AttributeError):
        testing.NoSuchThing  # noqa: B018


def test_config_validation_and_cli_args() -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(fail_rate=1.5)
    with pytest.raises(ValueError):
        EmulatorConfig(quota_window=0)
    config = EmulatorConfig(token="t", rps=5, tasks_per_minute=7)
    assert config.cli_args() == ["--token", "t", "--rps", "5", "--tasks-per-minute", "7"]
    assert EmulatorConfig().cli_args() == []
