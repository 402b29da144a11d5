"""Exporting a pool's assignments to a file: wall time, assignments/s, client CPU, peak RSS.

``python -m benchmarks.export`` (or the ``export`` section of ``python -m benchmarks``). For each size
(default 100,000 and 1,000,000 assignments) an emulator subprocess seeds that many assignments in
its own state before it serves (3 tasks each, as suites of the shoes pool; SUBMITTED, ACCEPTED
and REJECTED in turn), then each column runs in a fresh worker process:

* ``client``: ``TolokaClient.iter_assignments`` (all statuses, the client's default page size)
  streamed through ``RowWriter`` to .jsonl, one line per assignment as the API serves it;
* ``operator``: ``TolokaGetAssignmentsOperator.execute`` to .jsonl and to .csv, one row per task
  of each assignment (the file a DAG gets).

Only the export is measured (imports excluded). Peak RSS is the worker's ``VmHWM`` above its RSS
when the measurement starts: it should stay flat from 100,000 to 1,000,000 (pages are streamed).
The emulator's CPU (read from ``/proc``) is shown beside the client's: it serializes every page.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from airflow_provider_toloka.testing.process import EmulatorProcess
from benchmarks.common import run_worker, worker_env
from benchmarks.measure import Meter, emit
from benchmarks.tasks import PROJECT, TOKEN, pool_body

#: The columns: (name, mode, file extension).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("client", "client", ".jsonl"),
    ("operator", "operator", ".jsonl"),
    ("operator", "operator", ".csv"),
)
DEFAULT_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (20_000,)
TASKS_PER_ASSIGNMENT = 3
STATUSES = ("SUBMITTED", "ACCEPTED", "REJECTED")
#: How much the exporting process's peak RSS may grow from the smallest size to the largest.
RSS_GROWTH_LIMIT_MB = 20.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the seeded emulator (child process) --------------------------------------------------------


def seed(state: Any, count: int) -> str:
    """A pool of the benchmark project holding ``count`` assignments, put in the emulator's ``state``."""
    project_id = state.create_project(copy.deepcopy(PROJECT))["id"]
    body = {**pool_body(project_id), "defaults": {"default_overlap_for_new_task_suites": 3}}
    pool_id = str(state.create_pool(body)["id"])
    answers = [[{"output_values": {"result": label}}] * TASKS_PER_ASSIGNMENT for label in ("yes", "no")]
    for number in range(count):
        first = number // 3 * TASKS_PER_ASSIGNMENT  # overlap 3: three assignments share each suite of tasks
        tasks = [
            {
                "id": f"{pool_id}-task-{first + index:09d}",
                "pool_id": pool_id,
                "input_values": {
                    "image": f"https://example.com/images/{first + index:08d}.jpg",
                    "text": f"Item {first + index}: does the picture show a shoe?",
                    "n": first + index,
                },
                "overlap": 3,
            }
            for index in range(TASKS_PER_ASSIGNMENT)
        ]
        state.add_assignment(
            pool_id, tasks, answers[number % 2], status=STATUSES[number % 3], user_id=f"toloker-{number % 997}"
        )
    return pool_id


def serve(options: dict[str, Any]) -> None:
    """The emulator child: seed, print the ready line, serve until terminated or ``lifetime`` is over."""
    from airflow_provider_toloka.testing import TolokaEmulator
    from airflow_provider_toloka.testing.emulator import READY_PREFIX

    emulator = TolokaEmulator(token=TOKEN, rps=None, operation_delay=0.0, balance=1e12).start()
    started = time.perf_counter()
    seed(emulator.state, options["assignments"])
    log(f"seeded {options['assignments']:,} assignments in {time.perf_counter() - started:.1f} s")
    print(f"{READY_PREFIX}{emulator.url}", flush=True)
    try:
        time.sleep(options["lifetime"])
    finally:
        emulator.stop()


class SeededEmulatorProcess(EmulatorProcess):
    """An ``EmulatorProcess`` whose child seeds ``assignments`` (see :func:`serve`) before it listens.

    :param assignments: how many assignments the child seeds.
    :param lifetime: the child stops by itself after this many seconds.
    """

    def __init__(self, assignments: int, lifetime: float = 7200) -> None:
        super().__init__(token=TOKEN, startup_timeout=max(60.0, assignments / 10_000), stop_timeout=10)
        self.seeding = {"role": "serve", "assignments": assignments, "lifetime": lifetime}

    def command(self) -> list[str]:
        return [self.python, "-m", "benchmarks.export", json.dumps(self.seeding)]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from ``/proc/<pid>/stat``."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- one export (worker process) ---------------------------------------------------------------


class _TaskInstance:
    """Enough of a task instance for ``execute``: the extra link's XCom is dropped."""

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def export(options: dict[str, Any]) -> dict[str, Any]:
    """One export in this (fresh) process, measured; imports and the client set-up are not."""
    from airflow_provider_toloka.client.client import TolokaClient
    from airflow_provider_toloka.client.config import ClientConfig
    from airflow_provider_toloka.client.results import ASSIGNMENT_PAGE_SIZE
    from airflow_provider_toloka.client.writers import RowWriter

    path = options["path"]
    if options["mode"] == "operator":
        from airflow_provider_toloka.operators.results import TolokaGetAssignmentsOperator

        os.environ["AIRFLOW_CONN_TOLOKA_DEFAULT"] = json.dumps(
            {"conn_type": "toloka", "password": TOKEN, "host": options["url"]}
        )
        operator = TolokaGetAssignmentsOperator(task_id="export", pool_id=options["pool_id"], output_path=path)
        page_size = operator.page_size
        context = {"ti": _TaskInstance(), "dag": None}
        operator.hook.client.get_pool(options["pool_id"])  # the connection and session set up, unmeasured
        meter = Meter().start()
        result = operator.execute(context)  # type: ignore[arg-type]
        assignments, rows = result["assignments"], result["rows"]
    else:
        client = TolokaClient(ClientConfig(token=TOKEN, base_url=options["url"]))
        client.get_pool(options["pool_id"])
        page_size = ASSIGNMENT_PAGE_SIZE
        meter = Meter().start()
        with RowWriter(path) as writer:
            assignments = rows = writer.write_all(client.iter_assignments(options["pool_id"]))
    measured = meter.stop(assignments=assignments, rows=rows, page_size=page_size)
    measured["file_mb"] = os.path.getsize(path) / 2**20
    measured["assignments_per_s"] = assignments / measured["wall_s"]
    return measured


# --- the section ------------------------------------------------------------------------------


def measure(sizes: tuple[int, ...] = DEFAULT_SIZES, columns: tuple[tuple[str, str, str], ...] = COLUMNS) -> list[dict]:
    """Every column at every size: one seeded emulator per size, one fresh worker per column."""
    from airflow_provider_toloka.client.client import TolokaClient
    from airflow_provider_toloka.client.config import ClientConfig

    os.makedirs(worker_env()["AIRFLOW_HOME"], exist_ok=True)
    results = []
    for size in sizes:
        log(f"export: seeding {size:,} assignments")
        with SeededEmulatorProcess(size) as emulator:
            assert emulator.pid is not None
            pid = emulator.pid
            client = TolokaClient(ClientConfig(token=TOKEN, base_url=emulator.url))
            pool_id = next(client.iter_pools()).id
            client.close()
            for name, mode, extension in columns:
                folder = Path(tempfile.mkdtemp(prefix="toloka-export-bench-"))
                try:
                    log(f"export {size:,}: {name} to {extension}")
                    emulator_cpu = process_cpu_s(pid)
                    options = {"mode": mode, "url": emulator.url, "pool_id": pool_id}
                    result = run_worker("benchmarks.export", {**options, "path": str(folder / f"out{extension}")})
                    result["emulator_cpu_s"] = process_cpu_s(pid) - emulator_cpu
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
                results.append({"size": size, "column": name, "format": extension[1:], **result})
    return results


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Constant memory: per column, the peak RSS over baseline grows by at most ``RSS_GROWTH_LIMIT_MB``.

    From the smallest size to the largest; the checks have the shape of ``run.targets``'.
    """
    rows = report.get("export") or []
    checks = []
    for column, kind in dict.fromkeys((r["column"], r["format"]) for r in rows):
        same = sorted((r for r in rows if (r["column"], r["format"]) == (column, kind)), key=lambda r: r["size"])
        if len(same) < 2:
            continue
        growth = same[-1]["peak_over_baseline_mb"] - same[0]["peak_over_baseline_mb"]
        checks.append(
            {
                "target": f"export peak RSS growth {same[0]['size']:,} -> {same[-1]['size']:,} ({column} {kind})",
                "figure": growth,
                "limit": RSS_GROWTH_LIMIT_MB,
                "unit": " MB",
                "kind": "at most",
                "met": growth <= RSS_GROWTH_LIMIT_MB,
            }
        )
    return checks


def print_section(report: dict[str, Any]) -> None:
    """The figures of ``report["export"]``, as the other sections print theirs."""
    rows = report.get("export")
    if not rows:
        return
    print(
        f"\n7. Export of a pool's assignments (all statuses, {TASKS_PER_ASSIGNMENT} tasks each, page size "
        f"{rows[0]['page_size']:,}): client CPU s / wall s / assignments per s / peak RSS over baseline MB"
    )
    print(
        f"{'assignments':>11} {'column':<9} {'format':<6} {'CPU s':>7} {'wall s':>7} {'assign./s':>10}"
        f" {'rows':>10} {'file MB':>8} {'RSS+ MB':>8} {'emulator CPU s':>15}"
    )
    for r in rows:
        print(
            f"{r['size']:>11,} {r['column']:<9} {r['format']:<6} {r['cpu_s']:>7.2f} {r['wall_s']:>7.2f}"
            f" {r['assignments_per_s']:>10,.0f} {r['rows']:>10,} {r['file_mb']:>8.0f}"
            f" {r['peak_over_baseline_mb']:>8.1f} {r['emulator_cpu_s']:>15.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"one small size ({QUICK_SIZES[0]:,})")
    parser.add_argument("--sizes", help="assignment counts, comma-separated (default 100000,1000000)")
    parser.add_argument("--columns", help="among client-jsonl,operator-jsonl,operator-csv (default all)")
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else QUICK_SIZES if args.quick else DEFAULT_SIZES
    columns = COLUMNS
    if args.columns:
        chosen = set(args.columns.split(","))
        columns = tuple(c for c in COLUMNS if f"{c[0]}-{c[2][1:]}" in chosen)
    report: dict[str, Any] = {"export": measure(sizes, columns)}
    print_section(report)
    for check in targets(report):
        state = "MET   " if check["met"] else "MISSED"
        print(f"  {state} {check['target']}: {check['figure']:.1f} MB (at most {check['limit']:g} MB)")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


def _worker(options: dict[str, Any]) -> None:
    if options.get("role") == "serve":
        serve(options)
    else:
        emit(export(options))


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1].startswith("{"):
        _worker(json.loads(sys.argv[1]))
    else:
        sys.exit(main())
