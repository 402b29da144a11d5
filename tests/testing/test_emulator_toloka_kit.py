"""The official client (toloka-kit) through a requester's whole workflow against the emulator.

toloka-kit's pins conflict with Airflow's, so it runs in a venv of its own: ``scripts/test.sh`` builds
``.venv/toloka-kit`` once (``scripts/_toloka_kit_venv.sh``) and sets TOLOKA_KIT_PYTHON. Without it the
test is skipped with the reason (TOLOKA_KIT_UNAVAILABLE), unless TOLOKA_KIT_REQUIRED=1 (CI), where it fails.
The steps are in ``toloka_kit_steps_setup.py`` and ``toloka_kit_steps_results.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_toloka.testing import TolokaEmulator

TOLOKA_KIT_PYTHON = os.environ.get("TOLOKA_KIT_PYTHON")
SCRIPT = Path(__file__).with_name("toloka_kit_script.py")
TOKEN = "kit-token"
#: Simulated tolokers: fast enough for a pool to complete in about a second, good enough to aggregate.
CROWD = {"simulate_tolokers": True, "toloker_count": 10, "toloker_speed": 20.0, "toloker_accuracy": 0.9, "seed": 11}
MIN_AGGREGATED_ACCURACY = 0.8


@pytest.fixture(scope="module")
def toloka_kit_python() -> str:
    """The toloka-kit interpreter; skips (or fails when TOLOKA_KIT_REQUIRED=1) when there is none."""
    if TOLOKA_KIT_PYTHON:
        return TOLOKA_KIT_PYTHON
    reason = os.environ.get("TOLOKA_KIT_UNAVAILABLE") or "TOLOKA_KIT_PYTHON is not set (scripts/test.sh sets it)"
    if os.environ.get("TOLOKA_KIT_REQUIRED") == "1":
        pytest.fail(f"TOLOKA_KIT_REQUIRED=1 but {reason}")
    pytest.skip(reason)


def run_workflow(python: str, emulator: TolokaEmulator) -> dict[str, Any]:
    """Run the script; fails naming the step that failed; returns its summary."""
    completed = subprocess.run([python, str(SCRIPT), emulator.url, TOKEN], capture_output=True, text=True, timeout=300)
    if completed.returncode != 0:
        failed = re.search(r"^FAILED .*$", completed.stdout, re.MULTILINE)
        headline = failed.group(0) if failed else f"the script exited with {completed.returncode}"
        pytest.fail(f"{headline}\n{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}", pytrace=False)
    assert completed.stdout.rstrip().endswith("OK"), completed.stdout[-2000:]
    summary_line = next(line for line in completed.stdout.splitlines() if line.startswith("SUMMARY "))
    return json.loads(summary_line.removeprefix("SUMMARY "))


def test_toloka_kit_requester_workflow(toloka_kit_python: str) -> None:
    with TolokaEmulator(token=TOKEN, operation_delay=0.05, **CROWD) as emulator:
        summary = run_workflow(toloka_kit_python, emulator)
        state = emulator.state
        truth = state.labeling.ground_truth(summary["pool_id"])
        assignments = [item for item in state.assignments.values() if item["pool_id"] == summary["pool_id"]]
        statuses = {key: state.pools[key]["status"] for key in (summary["pool_id"], summary["clone_id"])}
        project_status = state.projects[summary["project_id"]]["status"]
        task_count = state.task_count(summary["pool_id"])

    assert project_status == "ARCHIVED"
    assert statuses == {summary["pool_id"]: "ARCHIVED", summary["clone_id"]: "ARCHIVED"}
    assert task_count == len(summary["task_ids"]) == 36
    assert {item["id"]: item["status"] for item in assignments} == summary["reviewed"]
    assert Counter(summary["reviewed"].values()) == {"ACCEPTED": len(assignments)}
    assert summary["completion_percentages"][-1] == 100
    right = sum(summary["aggregated"][task_id] == truth[task_id]["result"] for task_id in summary["task_ids"])
    assert right / len(summary["task_ids"]) >= MIN_AGGREGATED_ACCURACY, (right, len(summary["task_ids"]))
