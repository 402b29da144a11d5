"""Print what exists in a Toloka API (projects, pools, task counts): the demo's closing report."""

from __future__ import annotations

import sys

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig


def main(url: str) -> int:
    """Print every project and pool of the API at ``url``; 0 when each pool is open with tasks."""
    client = TolokaClient(ClientConfig(token="demo-api-key", base_url=url))
    ok = True
    for project in client.iter_projects():
        print(f"project {project.id}: {project.public_name!r} ({project.status})")
        for pool in client.iter_pools(project.id):
            tasks = sum(1 for _ in client.iter_tasks(pool.id))
            print(f"  pool {pool.id}: {pool.private_name!r} status={pool.status} tasks={tasks}")
            ok = ok and pool.status == "OPEN" and tasks > 0
    print("OK: the pool is open with its tasks" if ok else "UNEXPECTED: see above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
