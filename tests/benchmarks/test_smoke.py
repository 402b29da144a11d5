"""Smoke run of every benchmark at a tiny size: they keep working and give sane figures.

Not a timed test: nothing here asserts speed, only that each benchmark runs end to end
(against the emulator in a subprocess) and reports positive figures and exact task counts.
The toloka-kit column is skipped here. The full benchmarks: ``python -m benchmarks``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import dagparse, export, intake, run, sustained


def _positive(value: float) -> bool:
    return isinstance(value, (int, float)) and value > 0 and math.isfinite(value)


def test_upload_columns(tmp_path: Path) -> None:
    rows = run.run_upload([2_000], tk_python=None, data_dir=tmp_path, batch_size=500)
    assert [(row["size"], row["source"]) for row in rows] == [(2_000, "gen"), (2_000, "list"), (2_000, "jsonl")]
    for row in rows:
        assert set(row["columns"]) == {"raw", "ours", "ours_noval"}
        for column in row["columns"].values():
            assert column["tasks_sent"] == column["tasks_created"] == column["stored"] == 2_000
            assert column["operations"] == 4
            assert _positive(column["cpu_s"]) and _positive(column["wall_s"]) and _positive(column["peak_rss_mb"])
            assert column["peak_over_baseline_mb"] >= 0
    report = {"machine": run.machine(), "upload": rows}
    names = [check["target"] for check in run.targets(report)]
    assert any("ours/raw" in name for name in names) and any("peak RSS" in name for name in names)


def test_sustained_upload_loses_nothing() -> None:
    result = sustained.measure(tasks_per_window=2_000, quota_window=1.0, rps=5.0, windows=2, batch_size=500)
    assert result["error_reaching_user"] is None
    assert result["stored"] == result["distinct_inputs"] == result["sent"] == 4_000
    assert result["missing"] == result["duplicated"] == 0
    assert result["answers_429"] >= 1  # the limits were really hit, and absorbed
    assert _positive(result["achieved_tasks_per_s"])


def test_dag_parse() -> None:
    result = dagparse.measure(runs=1)
    assert result["tasks"] == 5
    assert _positive(result["dag_minus_sdk_ms"]) and _positive(result["sdk_ms"])
    assert "airflow_provider_toloka.client.client" not in result["provider_modules"]


def test_triggers() -> None:
    (result,) = run.run_triggers(10, poll_interval=0.2, operation_delay=1.0, variants=(True,))
    assert result["events"] == {"success": 10}
    assert result["non_200_answers"] == 0
    assert 10 <= result["polls"] <= result["polls_expected_max"]
    assert _positive(result["cpu_ms_per_trigger"])


def test_emulator_intake() -> None:
    result = intake.measure(20_000, batch_size=5_000)
    assert result["tasks"] == 20_000
    assert _positive(result["tasks_per_s"]) and _positive(result["tasks_per_emulator_cpu_s"])


def test_export_streams_every_assignment_into_the_file() -> None:
    from airflow_provider_toloka.client.results import ASSIGNMENT_PAGE_SIZE

    rows = export.measure((900,))
    assert [(row["column"], row["format"]) for row in rows] == [
        ("client", "jsonl"),
        ("operator", "jsonl"),
        ("operator", "csv"),
    ]
    for row in rows:
        assert row["assignments"] == 900 and row["page_size"] == ASSIGNMENT_PAGE_SIZE
        assert row["rows"] == (900 if row["column"] == "client" else 900 * export.TASKS_PER_ASSIGNMENT)
        assert _positive(row["cpu_s"]) and _positive(row["wall_s"]) and _positive(row["file_mb"])
        assert _positive(row["emulator_cpu_s"]) and row["peak_over_baseline_mb"] >= 0
    grown = [{**row, "size": 10 * row["size"]} for row in rows]
    assert [check["met"] for check in export.targets({"export": rows + grown})] == [True, True, True]


@pytest.mark.parametrize("argv", [["--help"]])
def test_command_line_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run.main(argv)
    assert exit_info.value.code == 0
    assert "--quick" in capsys.readouterr().out
