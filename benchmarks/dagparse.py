"""DAG-parse cost: import a DAG file using every operator, minus ``import airflow.sdk``, in fresh interpreters.

Each run is a new interpreter that imports ``airflow.sdk`` (timed), then executes the DAG file
(timed separately): the second figure is what the provider adds to parsing, the first is
Airflow's own. The median of the runs is reported.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Any

from benchmarks.common import ROOT, worker_env

DAG_FILE = ROOT / "benchmarks" / "dags" / "all_operators.py"

_PROBE = """
import json, runpy, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
namespace = runpy.run_path(sys.argv[1])
t2 = time.perf_counter()
dag = namespace["dag"]
print(json.dumps({"sdk_ms": 1000 * (t1 - t0), "dag_ms": 1000 * (t2 - t1), "tasks": len(dag.task_dict),
                  "provider_modules": sorted(m for m in sys.modules if m.startswith("airflow_provider_toloka"))}))
"""


def measure(runs: int = 7, python: str = sys.executable) -> dict[str, Any]:
    """Median over ``runs`` fresh interpreters (one warm-up run first, not counted)."""
    results = []
    for index in range(runs + 1):
        completed = subprocess.run(
            [python, "-c", _PROBE, str(DAG_FILE)],
            cwd=ROOT,
            env=worker_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"parsing {DAG_FILE} failed: {completed.stderr[-3000:]}")
        if index:
            results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return {
        "runs": runs,
        "dag_minus_sdk_ms": statistics.median(r["dag_ms"] for r in results),
        "sdk_ms": statistics.median(r["sdk_ms"] for r in results),
        "dag_minus_sdk_ms_all": [round(r["dag_ms"], 1) for r in results],
        "tasks": results[-1]["tasks"],
        "provider_modules": results[-1]["provider_modules"],
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 7), indent=1))
