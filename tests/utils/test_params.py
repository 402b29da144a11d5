"""The pure helpers that turn operator arguments into what the client takes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_toloka.client.errors import TolokaValidationError
from airflow_provider_toloka.utils.params import (
    expiry,
    load_config,
    object_id,
    operation_ids_of,
    optional_int,
    resolve_path,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+7d", "2026-12-03T12:00:00.000"),
        ("+12h", "2026-11-27T00:00:00.000"),
        ("+ 1.5 w", "2026-12-07T00:00:00.000"),
        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.000"),
        ("2026-12-01T10:00:00+02:00", "2026-12-01T08:00:00.000"),
        (datetime(2026, 12, 1, 9, 30), "2026-12-01T09:30:00.000"),
    ],
)
def test_expiry_is_absolute_utc(value, expected):
    assert expiry(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next week", "neither an ISO date-time nor a relative time"),
        ("2026-11-01T00:00:00Z", "is in the past"),
        (NOW - timedelta(seconds=1), "is in the past"),
        (7, "must be a datetime or a string"),
    ],
)
def test_expiry_refuses_what_toloka_would_refuse(value, message):
    with pytest.raises(TolokaValidationError, match=message):
        expiry(value, now=NOW)


def test_load_config_from_dict_json_and_file(tmp_path):
    config = {"public_name": "x"}
    assert load_config(config, "project_config") == config
    assert load_config(json.dumps(config), "project_config") == config
    (tmp_path / "p.json").write_text(json.dumps(config))
    assert load_config("p.json", "project_config", str(tmp_path)) == config


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "project_config is not valid JSON"),
        ("missing.json", "project_config: file 'missing.json' not found"),
        ("", "must be a dict, a JSON string or a path"),
        ('["a JSON list"]', "project_config is a JSON array; it must be one JSON object"),
    ],
)
def test_load_config_names_the_argument(value, message):
    with pytest.raises(TolokaValidationError, match=message):
        load_config(value, "project_config")


def test_resolve_path_prefers_the_dag_folder(tmp_path, monkeypatch):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "a.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert resolve_path("a.json", str(tmp_path / "dags")) == str(tmp_path / "dags" / "a.json")
    assert resolve_path("nothing.json", str(tmp_path / "dags")) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("op-1", ["op-1"]), (["a", "b"], ["a", "b"]), ('["a", "b"]', ["a", "b"]), (7, ["7"])],
)
def test_operation_ids_of_accepts_ids_lists_and_rendered_lists(value, expected):
    assert operation_ids_of(value) == expected


@pytest.mark.parametrize("value", [None, "", "None", [], "[]", ["a", None]])
def test_empty_ids_fail_naming_the_argument(value):
    with pytest.raises(TolokaValidationError, match="operation_ids"):
        operation_ids_of(value)


def test_object_id_names_an_empty_upstream_value():
    assert object_id(" 12 ", "pool_id") == "12"
    with pytest.raises(TolokaValidationError, match=r"pool_id is empty \(None\)"):
        object_id(None, "pool_id")


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("3", 3), (4, 4), (" 5 ", 5)])
def test_optional_int(value, expected):
    assert optional_int(value, "batch_size") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "batch_size must be a whole number, got 'abc'"), ("0", "batch_size must be at least 1, got 0")],
)
def test_optional_int_names_the_argument(value, message):
    with pytest.raises(TolokaValidationError) as failure:
        optional_int(value, "batch_size")
    assert str(failure.value) == message
