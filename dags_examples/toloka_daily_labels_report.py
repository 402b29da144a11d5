"""Runs on each new file of the Asset ``toloka_daily_labels`` and summarizes the day's labels.

``toloka_daily_batch`` publishes the Asset when its aggregated answers are written; the asset
event's ``extra`` carries the file's ``path`` (local or object storage), the ``pool_id`` and the
counts, so this DAG reads the file where it is, whatever worker wrote it. XCom holds the summary:
how many tasks got each answer and the mean confidence, never the rows.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Asset, task

#: Published by toloka_daily_batch (same name, same Asset).
DAILY_LABELS = Asset("toloka_daily_labels")

with DAG(
    dag_id="toloka_daily_labels_report",
    schedule=[DAILY_LABELS],
    catchup=False,
    tags=["toloka", "example"],
) as dag:

    @task
    def summarize_labels(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """One summary per new results file: answer counts, mean confidence, unanswered tasks."""
        import json
        import logging
        import os
        from collections import Counter

        from airflow.providers.common.compat.sdk import AirflowFailException, ObjectStoragePath

        events = [event for asset_events in (triggering_asset_events or {}).values() for event in asset_events]
        if not events:
            raise AirflowFailException(
                "No toloka_daily_labels event: this DAG runs when toloka_daily_batch writes its results"
            )
        summaries = []
        for event in events:
            path = str(event.extra["path"])
            answers: Counter[str] = Counter()
            confidences = []
            location = ObjectStoragePath(path if "://" in path else f"file://{os.path.abspath(path)}")
            with location.open("r", encoding="utf-8") as handle:
                # readline, not iteration: Airflow 3.1's tracking wrapper of the file is not iterable
                for line in iter(handle.readline, ""):
                    row = json.loads(line)
                    answers[json.dumps(row["output_values"], sort_keys=True)] += 1
                    if row.get("confidence") is not None:
                        confidences.append(float(row["confidence"]))
            summary = {
                "pool_id": event.extra.get("pool_id"),
                "path": path,
                "tasks": sum(answers.values()),
                "answers": dict(answers.most_common()),
                "mean_confidence": round(sum(confidences) / len(confidences), 3) if confidences else None,
            }
            logging.getLogger(__name__).info("Labels of pool %s: %s", summary["pool_id"], summary)
            summaries.append(summary)
        return summaries

    summarize_labels()
