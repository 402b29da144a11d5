"""These tests use the ``toloka_conn`` fixtures of ``airflow_context``."""

from __future__ import annotations

from airflow_context import slow_toloka_conn, toloka_conn  # noqa: F401
