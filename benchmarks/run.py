"""Run every benchmark side by side, print the table of figures and ratios, write JSON.

``python -m benchmarks`` (full) or ``python -m benchmarks --quick`` (a small smoke run);
``--help`` for the options. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common, dagparse, export, intake, sustained
from benchmarks.tasks import TOKEN, write_jsonl

TK_REQUIREMENTS = ["toloka-kit==1.2.3", "httpx<0.28", "cattrs<23"]
DEFAULT_TK_VENV = common.ROOT / "benchmarks" / ".tk-venv"
SECTIONS = ("upload", "sustained", "dagparse", "triggers", "intake", "export")
#: Where the upload's tasks come from: a generator, a list built before the measurement, a JSONL file.
SOURCES = ("gen", "list", "jsonl")

#: (column, worker module, options, needs toloka-kit)
UPLOAD_COLUMNS = [
    ("raw", "benchmarks.upload_worker", {"mode": "raw", "validate": False}, False),
    ("ours", "benchmarks.upload_worker", {"mode": "ours", "validate": True}, False),
    ("ours_noval", "benchmarks.upload_worker", {"mode": "ours", "validate": False}, False),
    ("tk", "benchmarks.tk_worker", {"mode": "tk"}, True),
    ("tk_ops", "benchmarks.tk_worker", {"mode": "tk-ops"}, True),
]
COLUMN_TITLES = {
    "raw": "raw ceiling",
    "ours": "ours (validate)",
    "ours_noval": "ours (no validate)",
    "tk": "toloka-kit create_tasks",
    "tk_ops": "toloka-kit create_tasks_async",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def ensure_tk_venv(path: Path) -> tuple[str | None, str]:
    """The toloka-kit interpreter (created with pip when missing), or None and why not."""
    python = path / "bin" / "python"
    check = [str(python), "-c", "import toloka.client, sys; sys.exit(0)"]
    if python.exists() and subprocess.run(check, capture_output=True, timeout=120).returncode == 0:
        return str(python), "reused"
    log(f"creating the toloka-kit venv in {path} ({' '.join(TK_REQUIREMENTS)})")
    try:
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(path)], check=True, capture_output=True, timeout=300)
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *TK_REQUIREMENTS],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if installed.returncode != 0:
            return None, f"pip install failed: {installed.stderr.strip()[-500:]}"
        if subprocess.run(check, capture_output=True, timeout=120).returncode != 0:
            return None, "toloka-kit installed but does not import"
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not create the venv: {exc}"
    return str(python), "created"


def run_upload(
    sizes: list[int],
    tk_python: str | None,
    data_dir: Path,
    repeat: int = 1,
    batch_size: int | None = None,
    sources: tuple[str, ...] = SOURCES,
    columns: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Every column x source x size, each in a fresh worker process against a fresh emulator.

    :param sources: among :data:`SOURCES`.
    :param columns: the columns to run (all by default).
    """
    rows = []
    for size in sizes:
        for source in sources:
            path = str(data_dir / f"tasks-{size}.jsonl")
            row: dict[str, Any] = {"size": size, "source": source, "columns": {}}
            for column, module, options, needs_tk in UPLOAD_COLUMNS:
                if (needs_tk and tk_python is None) or (columns is not None and column not in columns):
                    continue
                best = None
                for _ in range(repeat):
                    with common.emulator(operation_delay=0.1, tasks_per_minute=common.HUGE_QUOTA) as emu:
                        api = common.Api(emu.url)
                        pool_id = api.new_pool()
                        if source == "jsonl":
                            write_jsonl(path, size, pool_id)
                        log(f"upload {size:,} from {source}: {column}")
                        result = common.run_worker(
                            module,
                            {
                                **options,
                                "source": source,
                                "count": size,
                                "pool_id": pool_id,
                                "url": emu.url,
                                "path": path,
                                "batch_size": batch_size,
                            },
                            python=tk_python if needs_tk else sys.executable,
                        )
                        result["stored"] = api.count_tasks(pool_id)[0] if size <= 100_000 else None
                        result["emulator_cpu_s"] = (lambda s: s["cpu_user"] + s["cpu_sys"])(api.stats())
                    if best is None or result["cpu_s"] < best["cpu_s"]:
                        best = result
                row["columns"][column] = best
            rows.append(row)
            if os.path.exists(path):
                os.remove(path)
    return rows


def run_triggers(
    count: int, poll_interval: float, operation_delay: float, variants: tuple[bool, ...] = (False,)
) -> list[dict[str, Any]]:
    """The triggers as they are (``True`` in ``variants`` adds the older shared-SSL-context what-if)."""
    results = []
    for shared_ssl in variants:
        with common.emulator(operation_delay=operation_delay, tasks_per_minute=common.HUGE_QUOTA) as emu:
            api = common.Api(emu.url)
            pool_id = api.new_pool()
            os.environ["AIRFLOW_CONN_TOLOKA_DEFAULT"] = json.dumps(
                {"conn_type": "toloka", "password": TOKEN, "host": emu.url}
            )
            log(
                f"triggers: {count} x TolokaOperationTrigger, poll every {poll_interval}s"
                f"{' (shared SSL context)' if shared_ssl else ''}"
            )
            results.append(
                common.run_worker(
                    "benchmarks.trigger_worker",
                    {
                        "url": emu.url,
                        "pool_id": pool_id,
                        "count": count,
                        "poll_interval": poll_interval,
                        "operation_delay": operation_delay,
                        "shared_ssl": shared_ssl,
                    },
                )
            )
    os.environ.pop("AIRFLOW_CONN_TOLOKA_DEFAULT", None)
    return results


# --- the table ------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _fmt(value: Any, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target: name, figure, limit, met."""
    checks = []

    def add(name: str, figure: float | None, limit: float, better: str, unit: str = "") -> None:
        met = None if figure is None else (figure <= limit if better == "max" else figure >= limit)
        checks.append(
            {
                "target": name,
                "figure": figure,
                "limit": limit,
                "unit": unit,
                "kind": "at most" if better == "max" else "at least",
                "met": met,
            }
        )

    for row in report.get("upload", []):
        cols = row["columns"]
        cpu = {name: cols[name]["cpu_s"] for name in cols}
        where = f"{row['size']:,} {row['source']}"
        add(f"CPU ours/raw, validate on ({where})", _ratio(cpu.get("ours"), cpu.get("raw")), 2.0, "max", "x")
        add(f"CPU ours/raw, validate off ({where})", _ratio(cpu.get("ours_noval"), cpu.get("raw")), 1.3, "max", "x")
        if "tk" in cpu:
            add(f"CPU toloka-kit create_tasks/ours ({where})", _ratio(cpu.get("tk"), cpu.get("ours")), 10.0, "min", "x")
    rows = [r for r in report.get("upload", []) if r["source"] == "jsonl"]
    if rows:
        biggest = max(rows, key=lambda r: r["size"])
        add(
            f"peak RSS over baseline, {biggest['size']:,} from JSONL",
            biggest["columns"]["ours"]["peak_over_baseline_mb"],
            100.0,
            "max",
            " MB",
        )
    if "sustained" in report:
        s = report["sustained"]
        add("sustained rate / allowed rate", s["achieved_fraction"], 0.95, "min")
        add(
            "sustained: tasks lost + duplicated + 429s reaching the caller",
            s["missing"] + s["duplicated"] + (1 if s["error_reaching_user"] else 0),
            0,
            "max",
        )
    if "dagparse" in report:
        add("DAG parse minus airflow.sdk (median)", report["dagparse"]["dag_minus_sdk_ms"], 50.0, "max", " ms")
    for t in report.get("triggers", []):
        label = "shared SSL" if t["shared_ssl"] else "as is"
        add(f"trigger polls / expected max ({label})", t["polls"] / t["polls_expected_max"], 1.0, "max")
    return checks + export.targets(report)


def print_table(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"\nMachine: {m['nproc']} cores, {m['cpu_model']}, Python {m['python']}")
    if report.get("upload"):
        columns = [c for c, *_ in UPLOAD_COLUMNS if any(c in r["columns"] for r in report["upload"])]
        print(
            "\n1-2. Upload (async, batches of 10,000, waiting for the operations): client CPU s / wall s / "
            "peak RSS over baseline MB"
        )
        header = f"{'tasks':>9} {'source':<6} " + " ".join(f"{COLUMN_TITLES[c]:>30}" for c in columns)
        print(header)
        for row in report["upload"]:
            cells = []
            for c in columns:
                r = row["columns"].get(c)
                cells.append(
                    f"{'-':>30}"
                    if r is None
                    else f"{r['cpu_s']:>9.2f} / {r['wall_s']:>7.2f} / {r['peak_over_baseline_mb']:>6.1f}"
                )
            print(f"{row['size']:>9,} {row['source']:<6} " + " ".join(cells))
        print("\n   Ratios of client CPU (the stable figure):")
        print(
            f"{'tasks':>9} {'source':<6} {'ours/raw':>10} {'noval/raw':>10} {'tk/ours':>10} {'tk_async/ours':>14}"
            f" {'tasks/s ours (CPU)':>19}"
        )
        for row in report["upload"]:
            cpu = {name: r["cpu_s"] for name, r in row["columns"].items()}
            print(
                f"{row['size']:>9,} {row['source']:<6}"
                f" {_fmt(_ratio(cpu.get('ours'), cpu.get('raw')), '.2f', 'x'):>10}"
                f" {_fmt(_ratio(cpu.get('ours_noval'), cpu.get('raw')), '.2f', 'x'):>10}"
                f" {_fmt(_ratio(cpu.get('tk'), cpu.get('ours')), '.1f', 'x'):>10}"
                f" {_fmt(_ratio(cpu.get('tk_ops'), cpu.get('ours')), '.1f', 'x'):>14}"
                f" {_fmt(row['size'] / cpu['ours'] if cpu.get('ours') else None, ',.0f'):>19}"
            )
    if report.get("toloka_kit_note"):
        print(f"   toloka-kit: {report['toloka_kit_note']}")
    if "sustained" in report:
        s = report["sustained"]
        print(
            f"\n3. Sustained upload: {s['tasks']:,} tasks, limits {s['tasks_per_window']:,} tasks / "
            f"{s['quota_window_s']:g} s and {s['rps_limit']:g} rps: allowed {s['allowed_tasks_per_s']:,.0f} tasks/s,"
            f" achieved {s['achieved_tasks_per_s']:,.0f} ({100 * s['achieved_fraction']:.1f}%; window cycles "
            f"{s['window_cycles_s']} s); stored {s['stored']:,}, missing {s['missing']}, duplicated "
            f"{s['duplicated']}, 429s absorbed {s['answers_429']}, reaching the caller: "
            f"{s['error_reaching_user'] or 'none'}"
        )
    if "dagparse" in report:
        d = report["dagparse"]
        print(
            f"\n4. DAG parse (all 5 operators/sensor): {d['dag_minus_sdk_ms']:.1f} ms over `import airflow.sdk` "
            f"({d['sdk_ms']:.0f} ms), median of {d['runs']} fresh interpreters {d['dag_minus_sdk_ms_all']}"
        )
    for t in report.get("triggers", []):
        print(
            f"\n5. Triggers{' (shared SSL context, what-if)' if t['shared_ssl'] else ' (as is)'}: "
            f"{t['triggers']} x TolokaOperationTrigger, poll {t['poll_interval_s']:g} s: "
            f"{t['cpu_ms_per_trigger']:.2f} ms CPU/trigger ({t['cpu_ms_per_poll']:.2f} ms/poll), "
            f"{t['kb_per_trigger']:.0f} KB/trigger (peak {t['rss_peak_mb']:.0f} MB); polls seen by the emulator "
            f"{t['polls']:,} (<= {t['polls_expected_max']:,} expected), re-polls {t['poll_rate_per_s']:.0f}/s vs "
            f"configured {t['configured_poll_rate_per_s']:.0f}/s; events {t['events']}; "
            f"non-200 {t['non_200_answers']}"
        )
    if "intake" in report:
        i = report["intake"]
        print(
            f"\n6. Emulator intake: {i['tasks']:,} tasks at {i['tasks_per_s']:,.0f} tasks/s wall, "
            f"{i['tasks_per_emulator_cpu_s']:,.0f} tasks per emulator CPU second"
        )
    export.print_section(report)
    print("\nTargets:")
    for t in report["targets"]:
        state = {True: "MET   ", False: "MISSED", None: "n/a   "}[t["met"]]
        print(f"  {state} {t['target']}: {_fmt(t['figure'], '.3g')}{t['unit']} ({t['kind']} {t['limit']:g}{t['unit']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (about a minute)")
    parser.add_argument("--sizes", help="upload sizes, comma-separated (default 100000,1000000; quick 20000)")
    parser.add_argument("--only", help=f"comma-separated sections among {','.join(SECTIONS)}")
    parser.add_argument("--no-toloka-kit", action="store_true", help="skip the toloka-kit columns")
    parser.add_argument("--tk-venv", default=str(DEFAULT_TK_VENV), help="the toloka-kit venv (created if missing)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per upload cell; the lowest CPU is kept")
    parser.add_argument("--sources", help=f"upload sources, comma-separated among {','.join(SOURCES)} (default all)")
    parser.add_argument(
        "--columns", help=f"upload columns, comma-separated among {','.join(c for c, *_ in UPLOAD_COLUMNS)}"
    )
    parser.add_argument("--triggers", type=int, help="concurrent triggers (default 1000; quick 50)")
    parser.add_argument("--out", default=str(common.ROOT / "benchmarks" / "results" / "latest.json"))
    args = parser.parse_args(argv)
    quick = args.quick
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([20_000] if quick else [100_000, 1_000_000])
    sections = args.only.split(",") if args.only else list(SECTIONS)
    report: dict[str, Any] = {"machine": machine(), "quick": quick, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    os.makedirs(common.worker_env()["AIRFLOW_HOME"], exist_ok=True)
    tk_python = None
    if "upload" in sections:
        if args.no_toloka_kit:
            report["toloka_kit_note"] = "skipped (--no-toloka-kit)"
        else:
            tk_python, how = ensure_tk_venv(Path(args.tk_venv))
            report["toloka_kit_note"] = (
                f"{' '.join(TK_REQUIREMENTS)} in {args.tk_venv} ({how})" if tk_python else f"column skipped: {how}"
            )
        data_dir = Path(tempfile.mkdtemp(prefix="toloka-bench-"))
        try:
            report["upload"] = run_upload(
                sizes,
                tk_python,
                data_dir,
                max(args.repeat, 1),
                sources=tuple(args.sources.split(",")) if args.sources else SOURCES,
                columns=tuple(args.columns.split(",")) if args.columns else None,
            )
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    if "sustained" in sections:
        log("sustained upload against the limits")
        report["sustained"] = (
            sustained.measure(tasks_per_window=20_000, quota_window=3.0, rps=5.0, windows=3, batch_size=5_000)
            if quick
            else sustained.measure()
        )
    if "dagparse" in sections:
        log("DAG parse")
        report["dagparse"] = dagparse.measure(runs=3 if quick else 9)
    if "triggers" in sections:
        count = args.triggers or (50 if quick else 1000)
        report["triggers"] = (
            run_triggers(count, poll_interval=0.5, operation_delay=3.0)
            if quick
            else run_triggers(count, poll_interval=5.0, operation_delay=30.0)
        )
    if "intake" in sections:
        log("emulator intake")
        report["intake"] = intake.measure(100_000 if quick else 1_000_000)
    if "export" in sections:
        report["export"] = export.measure(export.QUICK_SIZES if quick else export.DEFAULT_SIZES)
    report["targets"] = targets(report)
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    print_table(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nWritten: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
