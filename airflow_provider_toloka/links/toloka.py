"""Extra links from Airflow task instances to the Toloka web UI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.models.taskinstancekey import TaskInstanceKey
    from airflow.sdk import BaseOperator

#: The XCom key under which operators store the web UI address of what they made.
TOLOKA_URL_XCOM_KEY = "toloka_url"

#: Web UI of each API host.
WEB_UI = {
    "https://sandbox.toloka.dev": "https://sandbox.toloka.ai",
    "https://toloka.dev": "https://platform.toloka.ai",
}


def web_url(api_base_url: str, project_id: str, pool_id: str | None = None) -> str:
    """The requester UI page of a project or pool; the API address itself for custom hosts."""
    base = WEB_UI.get(api_base_url, api_base_url)
    url = f"{base}/requester/project/{project_id}"
    return f"{url}/pool/{pool_id}" if pool_id else url


class TolokaLink(BaseOperatorLink):
    """Opens the project or pool that the task created or used."""

    name = "Toloka"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return XCom.get_value(key=TOLOKA_URL_XCOM_KEY, ti_key=ti_key) or ""
