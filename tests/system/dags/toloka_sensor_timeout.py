"""Sensors whose operation outlasts their timeout, deferred and poking (run by tests/system)."""

from __future__ import annotations

from airflow.sdk import DAG

from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor

with DAG("toloka_sensor_timeout", schedule=None, default_args={"retries": 2}):
    for deferrable in (True, False):
        TolokaOperationSensor(
            task_id=f"wait_{'deferred' if deferrable else 'poking'}",
            operation_ids="{{ dag_run.conf['operation_id'] }}",
            deferrable=deferrable,
            poke_interval=1,
            timeout=4,
        )
