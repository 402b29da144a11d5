"""Helpers of the Airflow layer: pure functions for operator arguments, and the shared operator mixin."""
