"""The official client (toloka-kit) against the emulator, in its own interpreter.

toloka-kit's pins conflict with Airflow's, so it lives in a venv of its own: ``scripts/test.sh`` builds
``.venv/toloka-kit`` once (``scripts/_toloka_kit_venv.sh``) and sets TOLOKA_KIT_PYTHON. Without it the
test is skipped with the reason (TOLOKA_KIT_UNAVAILABLE), unless TOLOKA_KIT_REQUIRED=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from airflow_provider_toloka.testing import TolokaEmulator

TOLOKA_KIT_PYTHON = os.environ.get("TOLOKA_KIT_PYTHON")
SCRIPT = Path(__file__).with_name("toloka_kit_script.py")


@pytest.fixture(scope="module")
def toloka_kit_python() -> str:
    """The toloka-kit interpreter; skips (or fails when TOLOKA_KIT_REQUIRED=1) when there is none."""
    if TOLOKA_KIT_PYTHON:
        return TOLOKA_KIT_PYTHON
    reason = os.environ.get("TOLOKA_KIT_UNAVAILABLE") or "TOLOKA_KIT_PYTHON is not set (scripts/test.sh sets it)"
    if os.environ.get("TOLOKA_KIT_REQUIRED") == "1":
        pytest.fail(f"TOLOKA_KIT_REQUIRED=1 but {reason}")
    pytest.skip(reason)


def test_toloka_kit_quickstart_flow(toloka_kit_python: str) -> None:
    with TolokaEmulator(token="kit-token", operation_delay=0.1) as emulator:
        completed = subprocess.run(
            [toloka_kit_python, str(SCRIPT), emulator.url, "kit-token"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert completed.stdout.strip().endswith("OK")
        pools = list(emulator.state.pools.values())
    assert len(pools) == 1
    assert emulator.state.task_count(pools[0]["id"]) == 25
