"""Streaming task files: .jsonl lines and .json arrays read in chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_toloka.client import files
from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.client.files import iter_json_array, iter_jsonl, iter_task_file


def tricky_items(count: int) -> list[Any]:
    """Items whose text has brackets, commas, quotes, escapes and multi-byte characters."""
    items: list[Any] = []
    for i in range(count):
        items.append(
            {
                "input_values": {
                    "image": f"https://example.com/{i}.jpg?a=[1,2]&b={{x}}",
                    "text": f'quote " backslash \\ comma, ] bracket [ {i} ботинки 👟',
                    "numbers": [i, -i, i * 1.5, 1e-7 * i, 12345678901234567890],
                    "flags": [True, False, None],
                },
                "overlap": i % 5 + 1,
            }
        )
    items += [12.5, -0.25, 3e10, 7, "a string", [], {}, None, True]
    return items


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 4096])
@pytest.mark.parametrize("indent", [None, 2])
def test_iter_json_array_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, indent: int | None
) -> None:
    items = tricky_items(200)
    path = tmp_path / "tasks.json"
    path.write_text("\n  " + json.dumps(items, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    monkeypatch.setattr(files, "_CHUNK", chunk)
    assert list(iter_json_array(path)) == items


@pytest.mark.parametrize("chunk", [1, 2, 5, 1 << 20])
def test_iter_json_array_numbers_split_by_a_chunk_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    items = [1.5, 12.25, -3e-5, 6.02e23, 100, 0.001, -7.5e3]
    path = tmp_path / "numbers.json"
    path.write_text("[1.5,12.25,-3e-5,6.02e23,100,0.001,-7.5e+3]", encoding="utf-8")
    monkeypatch.setattr(files, "_CHUNK", chunk)
    assert list(iter_json_array(path)) == items


def test_iter_json_array_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"n": i} for i in range(1000)]) + " trailing garbage is never read", "utf-8")
    monkeypatch.setattr(files, "_CHUNK", 16)
    stream = iter_json_array(path)
    assert [next(stream) for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]


@pytest.mark.parametrize("chunk", [1, 4, 1 << 20])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": 1}, {"a": 2}, {"a": }]', "item 2 is not valid JSON"),
        ('[{"a": 1}, {"a": 2} {"a": 3}]', "expected ',' or ']' after item 1"),
        ('[{"a": 1}, {"a": 2},', "item 2 is not valid JSON"),
        ('[{"a": 1}, {"a": 2}', "the JSON array is not closed after item 2"),
        ('[{"a": 1},,{"a": 2}]', "item 1 is not valid JSON"),
        ('[{"a": "unterminated}]', "item 0 is not valid JSON"),
        ("[, 1]", "item 0 is not valid JSON"),
        ("[1, 2,]", "item 2 is not valid JSON"),
        ("[12.]", "expected ',' or ']' after item 0"),
        ('{"input_values": {}}', "expected a JSON array of tasks"),
        ("", "expected a JSON array of tasks"),
    ],
)
def test_iter_json_array_reports_broken_json_with_the_item_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, text: str, message: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(files, "_CHUNK", chunk)
    with pytest.raises(TolokaValidationError) as caught:
        list(iter_json_array(path))
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_iter_json_array_empty_and_whitespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_CHUNK", 3)
    path = tmp_path / "empty.json"
    path.write_text(" [ \n\t ] ", encoding="utf-8")
    assert list(iter_json_array(path)) == []
    path.write_text('[ 1 ,\n 2 ,\t"x" ]', encoding="utf-8")
    assert list(iter_json_array(path)) == [1, 2, "x"]


def test_iter_jsonl_reports_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"image": "a"}\n\n{"image": "b"}\n{"image": oops}\n{"image": "c"}\n', encoding="utf-8")
    stream = iter_jsonl(path)
    assert next(stream) == {"image": "a"}
    assert next(stream) == {"image": "b"}
    with pytest.raises(TolokaValidationError) as caught:
        next(stream)
    assert f"{path}, line 4: not valid JSON" in str(caught.value)


def test_iter_task_file_dispatches_on_the_extension(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"x": 1}\n{"x": 2}\n', encoding="utf-8")
    (tmp_path / "b.ndjson").write_text('{"x": 3}\n', encoding="utf-8")
    (tmp_path / "c.json").write_text('[{"x": 4}]', encoding="utf-8")
    assert list(iter_task_file(tmp_path / "a.jsonl")) == [{"x": 1}, {"x": 2}]
    assert list(iter_task_file(str(tmp_path / "b.ndjson"))) == [{"x": 3}]
    assert list(iter_task_file(tmp_path / "c.json")) == [{"x": 4}]

    (tmp_path / "d.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(TolokaValidationError, match=r"d\.csv.*use a \.jsonl"):
        iter_task_file(tmp_path / "d.csv")
    with pytest.raises(TolokaValidationError, match=r"missing\.jsonl' does not exist"):
        iter_task_file(tmp_path / "missing.jsonl")
