"""Drive the emulator with the official client, toloka-kit, through a requester's whole workflow.

Usage: ``$TOLOKA_KIT_PYTHON toloka_kit_script.py URL TOKEN``. Prints ``STEP <name> ok`` per step, then
``SUMMARY <json>`` (ids and results, for the test to check against the emulator's state) and ``OK``; on a
failure ``FAILED <step>: <error>`` (the traceback on stderr) and exit status 1. Not collected by pytest:
``test_emulator_toloka_kit.py`` runs it in the toloka-kit interpreter.
"""

from __future__ import annotations

import json
import sys
import time
import traceback

import toloka.client as toloka
from toloka_kit_steps_results import RESULTS_STEPS
from toloka_kit_steps_setup import SETUP_STEPS, Context

STEPS = SETUP_STEPS + RESULTS_STEPS


def summary(ctx: Context) -> dict:
    """The ids of what the workflow made and what it read back."""
    return {
        "project_id": ctx.project.id,
        "pool_id": ctx.pool.id,
        "clone_id": ctx.clone.id,
        "training_id": ctx.training.id,
        "skill_id": ctx.skill.id,
        "task_ids": ctx.task_ids,
        "reviewed": ctx.reviewed,
        **ctx.summary,
    }


def main(url: str, token: str) -> int:
    ctx = Context(client=toloka.TolokaClient(token, url=url, retries=0))
    for step in STEPS:
        began = time.monotonic()
        try:
            step(ctx)
        except Exception as exc:
            print(f"FAILED {step.__name__}: {type(exc).__name__}: {exc}"[:2000], flush=True)
            traceback.print_exc()
            return 1
        print(f"STEP {step.__name__} ok ({time.monotonic() - began:.2f} s)", flush=True)
    print(f"SUMMARY {json.dumps(summary(ctx))}")
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
