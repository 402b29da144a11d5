"""The demo's closing report: what exists in the Toloka API, the first aggregated labels, their accuracy.

Usage: python scripts/demo_report.py API_URL [RESULTS_FILE]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig

#: Aggregated rows printed.
SHOWN_ROWS = 5


def main(url: str, results: str | None = None) -> int:
    """Print the projects and pools at ``url`` and the results; 0 when every pool completed, every task labeled."""
    client = TolokaClient(ClientConfig(token="demo-api-key", base_url=url))
    ok = True
    pool_ids = []
    for project in client.iter_projects():
        print(f"project {project.id}: {project.public_name!r} ({project.status})")
        for pool in client.iter_pools(project.id):
            tasks = sum(1 for _ in client.iter_tasks(pool.id))
            assignments = sum(1 for _ in client.iter_assignments(pool.id))
            print(
                f"  pool {pool.id}: {pool.private_name!r} status={pool.status} ({pool.last_close_reason})"
                f" tasks={tasks} assignments={assignments}"
            )
            ok = ok and pool.last_close_reason == "COMPLETED" and tasks > 0
            pool_ids.append(pool.id)
    balance = float(client.get_requester()["balance"])
    print(f"requester balance after the run: {balance:.2f}")
    if results:
        ok = report_labels(url, Path(results.removeprefix("file://")), pool_ids) and ok
    print("OK: the pool was labeled to the end and every task has a label" if ok else "UNEXPECTED: see above")
    return 0 if ok else 1


def report_labels(url: str, path: Path, pool_ids: list[str]) -> bool:
    """Print the first aggregated rows and their accuracy against the emulator's hidden ground truth."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    print(f"aggregated labels in {path} ({len(rows)} rows), the first {SHOWN_ROWS}:")
    for row in rows[:SHOWN_ROWS]:
        image = row["input_values"].get("image")
        print(f"  {image} -> {row['output_values']} (confidence {row['confidence']:.2f}, {row['answers']} answers)")
    truth: dict[str, object] = {}
    for pool_id in pool_ids:
        truth.update(httpx.get(f"{url}/_emulator/ground-truth", params={"pool_id": pool_id}, timeout=10).json())
    right = sum(row["output_values"] == truth.get(row["task_id"]) for row in rows)
    print(f"accuracy against the ground truth: {right}/{len(rows)} = {right / max(1, len(rows)):.1%}")
    return bool(rows) and all(row["output_values"] for row in rows)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
