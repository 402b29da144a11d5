"""RowWriter: .jsonl, .csv and .parquet files, local and through ObjectStoragePath (memory://)."""

from __future__ import annotations

import csv
import json

import pytest

from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.writers import RowWriter, output_format

ROWS = [
    {"task_id": "a", "input_values": {"image": "x.jpg"}, "output_values": {"result": "boots"}, "confidence": 1.0},
    {"task_id": "b", "input_values": {"image": "y.jpg"}, "output_values": {"result": None}, "confidence": None},
]
COLUMNS = ["task_id", "input_values.image", "output_values.result", "confidence"]


def test_jsonl_keeps_rows_nested(tmp_path):
    path = tmp_path / "deep" / "out.jsonl"
    with RowWriter(str(path)) as writer:
        writer.write_all(ROWS)
    assert writer.rows == 2
    assert [json.loads(line) for line in path.read_text().splitlines()] == ROWS


def test_csv_flattens_into_the_given_columns(tmp_path):
    path = tmp_path / "out.csv"
    with RowWriter(str(path), COLUMNS) as writer:
        writer.write_all(ROWS)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    assert rows[0]["output_values.result"] == "boots" and rows[1]["output_values.result"] == ""


def test_parquet_row_groups_and_an_empty_file_with_its_columns(tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    monkeypatch.setattr("airflow_provider_toloka.client.writers.PARQUET_ROW_GROUP", 3)
    path = tmp_path / "out.parquet"
    many = [{**ROWS[i % 2], "task_id": str(i)} for i in range(10)]
    with RowWriter(str(path), COLUMNS) as writer:
        writer.write_all(many)
    table = pq.read_table(path)
    assert table.num_rows == 10 and table.column_names == COLUMNS
    assert pq.ParquetFile(path).num_row_groups == 4
    assert table.to_pylist()[1]["output_values.result"] is None
    empty = tmp_path / "empty.parquet"
    with RowWriter(str(empty), COLUMNS):
        pass
    assert pq.read_table(empty).column_names == COLUMNS


def test_object_storage_path(memory_storage):
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    path = ObjectStoragePath("memory://results/day/out.csv")
    with RowWriter(path, COLUMNS) as writer:
        writer.write_all(ROWS)
    assert path.read_text().splitlines()[1] == "a,x.jpg,boots,1.0"


def test_a_row_with_unknown_columns_and_a_bad_extension_are_refused(tmp_path):
    with (
        pytest.raises(TolokaValidationError, match=r"\['surprise'\]"),
        RowWriter(str(tmp_path / "o.csv"), ["task_id"]) as w,
    ):
        w.write({"task_id": "a", "surprise": 1})
    with pytest.raises(TolokaValidationError, match=r"\.jsonl, \.csv or \.parquet"):
        output_format("out.xlsx")


def test_a_local_file_appears_whole_or_not_at_all(tmp_path):
    path = tmp_path / "labels.jsonl"

    def rows():
        yield ROWS[0]
        assert not path.exists() and (tmp_path / "labels.jsonl.partial").exists()  # written aside meanwhile
        raise ConnectionError("the API went away")

    with pytest.raises(ConnectionError), RowWriter(str(path)) as writer:
        writer.write_all(rows())
    assert list(tmp_path.iterdir()) == []
