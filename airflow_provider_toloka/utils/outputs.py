"""Where result files go (a local path or object storage) and how a task's Asset events describe them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.client.errors import TolokaValidationError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_toloka.client.files import FilePath


def output_file(value: Any, field: str = "output_path") -> FilePath:
    """The file a templated ``output_path`` names: an ``ObjectStoragePath`` for a URL, else a local path.

    A URL may use any scheme Airflow's object storage knows (``s3://``, ``gs://``, ``file://``, ...).

    :raises TolokaValidationError: for an empty value or an unknown extension.
    """
    from airflow_provider_toloka.client.writers import output_format

    text = "" if value is None else str(value).strip()
    if not text:
        raise TolokaValidationError(f"{field} is empty: give a .jsonl, .csv or .parquet path or URL")
    output_format(text)
    if "://" in text:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        return ObjectStoragePath(text)
    return text


def record_asset_extra(outlets: Any, context: Context, extra: dict[str, Any]) -> None:
    """Put ``extra`` on the asset event of each Asset among the task's ``outlets`` (Airflow 3 ``outlet_events``).

    A downstream DAG scheduled on the Asset reads it from ``triggering_asset_events``.
    """
    from airflow.providers.common.compat.sdk import Asset

    events = context.get("outlet_events")
    if events is None:
        return
    for outlet in outlets or []:
        if isinstance(outlet, Asset):
            events[outlet].extra.update(extra)
