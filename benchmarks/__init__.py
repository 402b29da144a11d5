"""Benchmarks of airflow-provider-toloka against the local emulator: ``python -m benchmarks``.

Importing this package is cheap and needs only the standard library, so that the toloka-kit
worker (run by its own interpreter) can share the task definitions in :mod:`benchmarks.tasks`.
"""
