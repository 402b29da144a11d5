"""Writing result rows to .jsonl, .csv or .parquet files as streams, in bounded memory.

A file is named by a local path or by any path object with an ``open()`` method, such as
``pathlib.Path`` or Airflow's ``ObjectStoragePath`` (s3://, gs://, file://, memory://, ...). The
format comes from the extension. Rows are dicts; for .csv and .parquet, nested dicts are flattened
one level into dotted columns (``input_values.image``), and the columns are fixed up front.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from airflow_provider_toloka.client.errors import TolokaConfigError, TolokaValidationError
from airflow_provider_toloka.client.files import FilePath

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}

#: Rows buffered before a .parquet row group is written.
PARQUET_ROW_GROUP = 10_000


def output_format(path: FilePath) -> str:
    """``jsonl``, ``csv`` or ``parquet``, from the file name's extension.

    :raises TolokaValidationError: for any other extension.
    """
    name = str(path).lower()
    for extension, kind in FORMATS.items():
        if name.endswith(extension):
            return kind
    raise TolokaValidationError(f"output_path {str(path)!r}: use a .jsonl, .csv or .parquet file name")


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts become dotted keys, one level deep; other values are kept (lists as JSON text)."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = _scalar(item)
        else:
            flat[key] = _scalar(value)
    return flat


def _scalar(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def _is_local(path: FilePath) -> bool:
    return isinstance(path, (str, os.PathLike)) and not hasattr(path, "open")


def _open_binary(path: FilePath) -> IO[bytes]:
    if _is_local(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")
    parent = getattr(path, "parent", None)
    if parent is not None and hasattr(parent, "mkdir"):
        with contextlib.suppress(OSError, NotImplementedError):  # object stores have no folders to make
            parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


class RowWriter:
    """Writes rows to a file in the format of its extension; use as a context manager.

    A local file is written under ``<name>.partial`` and renamed when complete, so readers never
    see half a file; a failed write leaves no file behind.

    :param path: a local path or a path object (``ObjectStoragePath``).
    :param columns: the columns of .csv and .parquet files (flattened names); rows may lack some
        (left empty) but may not bring others. Ignored for .jsonl. None: the first row's.
    """

    def __init__(self, path: FilePath, columns: Sequence[str] | None = None) -> None:
        self.path = path
        self.format = output_format(path)
        self.columns = list(columns) if columns is not None else None
        self.rows = 0
        self._handle: IO[bytes] | None = None
        self._text: io.TextIOWrapper | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._buffer: list[dict[str, Any]] = []
        self._partial = f"{os.fspath(path)}.partial" if _is_local(path) else None
        if self.format == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise TolokaConfigError(
                    f"output_path {str(path)!r}: writing .parquet needs pyarrow (pip install pyarrow), "
                    "or use .jsonl or .csv"
                ) from None

    def __enter__(self) -> RowWriter:
        self._handle = _open_binary(self._partial or self.path)
        if self.format != "parquet":
            self._text = io.TextIOWrapper(self._handle, encoding="utf-8", newline="")
        return self

    def write(self, row: dict[str, Any]) -> None:
        """Write one row."""
        if self.format == "jsonl":
            assert self._text is not None
            self._text.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        else:
            flat = flatten(row)
            if self.columns is None:
                self.columns = list(flat)
            extra = [key for key in flat if key not in self.columns]
            if extra:
                raise TolokaValidationError(
                    f"{self.path}: row {self.rows} has fields {extra} that are not among the columns {self.columns}"
                )
            if self.format == "csv":
                self._write_csv(flat)
            else:
                self._buffer.append(flat)
                if len(self._buffer) >= PARQUET_ROW_GROUP:
                    self._flush_parquet()
        self.rows += 1

    def write_all(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write every row; return how many."""
        for row in rows:
            self.write(row)
        return self.rows

    def _write_csv(self, flat: dict[str, Any]) -> None:
        if self._csv is None:
            assert self._text is not None and self.columns is not None
            self._csv = csv.DictWriter(self._text, fieldnames=self.columns)
            self._csv.writeheader()
        self._csv.writerow(flat)

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert self.columns is not None
        rows = [{name: row.get(name) for name in self.columns} for row in self._buffer]
        if self._parquet is None:
            inferred = pa.Table.from_pylist(rows, schema=None) if rows else None
            schema = pa.schema(
                [
                    pa.field(
                        name,
                        pa.string()
                        if inferred is None or pa.types.is_null(inferred.schema.field(name).type)
                        else inferred.schema.field(name).type,
                    )
                    for name in self.columns
                ]
            )
            table = pa.Table.from_pylist(rows, schema=schema)
            self._parquet = pq.ParquetWriter(self._handle, schema)
        else:
            table = pa.Table.from_pylist(rows, schema=self._parquet.schema)
        self._parquet.write_table(table)
        self._buffer = []

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        try:
            if exc_type is None:
                self._finish()
        finally:
            assert self._handle is not None
            self._handle.close()
            if self._partial is not None:
                if exc_type is None:
                    os.replace(self._partial, self.path)
                else:
                    with contextlib.suppress(OSError):
                        os.remove(self._partial)

    def _finish(self) -> None:
        if self.format == "parquet":
            if self._buffer or self._parquet is None:
                if self.columns is None:
                    self.columns = []
                self._flush_parquet()
            self._parquet.close()
        elif self.format == "csv" and self._csv is None and self.columns:
            self._header_only()
        if self._text is not None:
            self._text.flush()
            self._text.detach()

    def _header_only(self) -> None:
        assert self._text is not None and self.columns is not None
        csv.DictWriter(self._text, fieldnames=self.columns).writeheader()
