"""Benchmark of the emulator's task intake and paging (not collected by pytest).

Run: ``.venv/bin/python tests/testing/bench_emulator_intake.py [--in-process] [--total 100000] [--batch 10000]``
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

import requests
from emulator_helpers import SHOES_PROJECT, pool_body

from airflow_provider_toloka.testing import EmulatorProcess, TolokaEmulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=10_000)
    parser.add_argument("--in-process", action="store_true", help="TolokaEmulator instead of EmulatorProcess")
    args = parser.parse_args()
    options = {"token": "bench", "operation_delay": 0.0}
    runner = TolokaEmulator(**options) if args.in_process else EmulatorProcess(lifetime=300, **options)
    with runner as emulator:
        session = requests.Session()
        session.headers.update({"Authorization": "OAuth bench", "Content-Type": "application/json"})
        api = emulator.api_url
        project_id = session.post(f"{api}/projects", data=json.dumps(SHOES_PROJECT)).json()["id"]
        pool_id = session.post(f"{api}/pools", data=json.dumps(pool_body(project_id))).json()["id"]
        bodies = [
            json.dumps(
                [
                    {
                        "pool_id": pool_id,
                        "input_values": {"image": f"https://example.com/{start + n}.jpg"},
                        "overlap": 1,
                    }
                    for n in range(min(args.batch, args.total - start))
                ]
            ).encode()
            for start in range(0, args.total, args.batch)
        ]
        started = time.perf_counter()
        operation_ids = []
        for body in bodies:
            operation_id = str(uuid.uuid4())
            response = session.post(
                f"{api}/tasks", data=body, params={"async_mode": "true", "operation_id": operation_id}
            )
            assert response.status_code == 202, response.text
            operation_ids.append(operation_id)
        accepted = time.perf_counter() - started
        for operation_id in operation_ids:
            assert session.get(f"{api}/operations/{operation_id}").json()["status"] == "SUCCESS"
        done = time.perf_counter() - started
        print(
            f"intake: {args.total} tasks in {len(bodies)} async batches accepted in {accepted:.2f} s "
            f"({args.total / accepted:,.0f} tasks/s), all SUCCESS after {done:.2f} s"
        )

        started = time.perf_counter()
        count, last_id = 0, None
        while True:
            params = {"pool_id": pool_id, "sort": "id", "limit": args.page}
            if last_id:
                params["id_gt"] = last_id
            page = session.get(f"{api}/tasks", params=params).json()
            count += len(page["items"])
            if not page["has_more"]:
                break
            last_id = page["items"][-1]["id"]
        paged = time.perf_counter() - started
        assert count == args.total, count
        print(f"paging: {count} tasks in pages of {args.page} read in {paged:.2f} s ({count / paged:,.0f} tasks/s)")


if __name__ == "__main__":
    main()
