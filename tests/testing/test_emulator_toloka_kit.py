"""The official client (toloka-kit) against the emulator, in its own interpreter.

toloka-kit pins conflict with Airflow, so it lives in a separate virtualenv; point
TOLOKA_KIT_PYTHON at its python (e.g. ``python -m venv /tmp/tk && /tmp/tk/bin/pip install
toloka-kit==1.2.3 "httpx<0.28" "cattrs<23"``). Skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from airflow_provider_toloka.testing import TolokaEmulator

TOLOKA_KIT_PYTHON = os.environ.get("TOLOKA_KIT_PYTHON")
SCRIPT = Path(__file__).with_name("toloka_kit_script.py")


@pytest.mark.skipif(not TOLOKA_KIT_PYTHON, reason="TOLOKA_KIT_PYTHON is not set")
def test_toloka_kit_quickstart_flow() -> None:
    assert TOLOKA_KIT_PYTHON is not None
    with TolokaEmulator(token="kit-token", operation_delay=0.1) as emulator:
        completed = subprocess.run(
            [TOLOKA_KIT_PYTHON, str(SCRIPT), emulator.url, "kit-token"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert completed.stdout.strip().endswith("OK")
        pools = list(emulator.state.pools.values())
    assert len(pools) == 1
    assert emulator.state.task_count(pools[0]["id"]) == 25
