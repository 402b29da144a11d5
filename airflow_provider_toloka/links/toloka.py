"""The "Toloka" extra link: the web page of the project, pool or operation that a task made or waited on.

A task calls :meth:`TolokaLink.persist` as soon as it knows an id. The address goes to XCom under
``TolokaLink.xcom_key`` (``toloka_url``), the key from which Airflow 3's UI reads the link, so the link
works while the task still runs (a long upload, a waiting sensor), after a deferral, and after a crash.

How Airflow 3 uses a link (task SDK 1.3, Airflow 3.3): the API server never calls ``get_link``; it reads
the XCom under ``xcom_key``. The task process calls ``get_link`` at the end of each of its runs
(``finalize``, after a deferral too) and writes the answer under ``xcom_key``, whatever ``do_xcom_push``
says. So ``get_link`` must hand back what ``persist`` wrote, and must not read a key that was never
written: reading a missing XCom makes the supervisor log ``[error] XCom not found``. It answers from
memory when ``persist`` ran in this process, and otherwise reads the task's values as a list
(``XCom.get_all``, an empty list when there are none, with no error).

``persist`` writes even when the task has ``do_xcom_push=False``: the address is UI metadata, not the
task's output, and Airflow itself writes link XComs regardless of that flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

#: The XCom key of the link's address (the UI reads it; operators may read it too).
TOLOKA_URL_XCOM_KEY = "toloka_url"

#: Web UI of each Toloka API host; any other host (an emulator) serves its own pages.
WEB_UI = {
    "https://sandbox.toloka.dev": "https://sandbox.toloka.ai",
    "https://toloka.dev": "https://platform.toloka.ai",
}

#: Attribute of the running operator holding the address persisted by this process.
_PERSISTED = "_toloka_link_url"


def toloka_url(
    api_base_url: str,
    *,
    project_id: str | None = None,
    pool_id: str | None = None,
    operation_id: str | None = None,
) -> str | None:
    """The page that shows an object best, or None when nothing can be shown.

    An operation's page on a custom host (the emulator serves one); the Toloka web UI has none, so
    there the pool's page, else the project's. A pool's page needs its project id too.

    :param api_base_url: the connection's API host, e.g. ``https://toloka.dev``.
    :param project_id: the project.
    :param pool_id: the pool (of ``project_id``).
    :param operation_id: the operation.
    """
    host = api_base_url.rstrip("/")
    if operation_id and host not in WEB_UI:
        return f"{host}/requester/operation/{operation_id}"
    return web_url(api_base_url, project_id, pool_id) if project_id else None


def web_url(api_base_url: str, project_id: str, pool_id: str | None = None) -> str:
    """The web page of a project, or of one of its pools.

    :param api_base_url: the connection's API host.
    :param project_id: the project.
    :param pool_id: the pool, if the page is the pool's.
    """
    host = api_base_url.rstrip("/")
    project_page = f"{WEB_UI.get(host, host)}/requester/project/{project_id}"
    return f"{project_page}/pool/{pool_id}" if pool_id else project_page


class TolokaLink(BaseOperatorLink):
    """Opens the project, pool or operation that the task made or waited on."""

    name = "Toloka"

    @property
    def xcom_key(self) -> str:
        """The XCom key that ``persist`` writes and the UI reads."""
        return TOLOKA_URL_XCOM_KEY

    @classmethod
    def persist(
        cls,
        context: Context,
        *,
        base_url: str,
        project_id: str | None = None,
        pool_id: str | None = None,
        operation_id: str | None = None,
    ) -> str | None:
        """Store the page of what the task made or waits on, for its link (see :func:`toloka_url`).

        Call it again with more ids to point the link at a better page. Nothing is stored when no page
        can be built (e.g. on Toloka, an operation whose pool and project are unknown).

        :param context: the task's context.
        :param base_url: the connection's API host.
        :param project_id: the project.
        :param pool_id: the pool (of ``project_id``).
        :param operation_id: the operation.
        :return: the address stored, or None.
        """
        url = toloka_url(base_url, project_id=project_id, pool_id=pool_id, operation_id=operation_id)
        if url is None:
            return None
        context["ti"].xcom_push(key=TOLOKA_URL_XCOM_KEY, value=url)
        task = context.get("task")
        if task is not None:
            setattr(task, _PERSISTED, url)
        return url

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The stored address, or ``""`` when the task has stored none (no error is logged then).

        :param operator: the task's operator.
        :param ti_key: the task instance.
        """
        persisted = getattr(operator, _PERSISTED, None)
        if persisted is not None:
            return persisted
        return self._stored_url(ti_key)

    def _stored_url(self, ti_key: TaskInstanceKey) -> str:
        from airflow.providers.common.compat.sdk import XCom

        identity: dict[str, Any] = {"dag_id": ti_key.dag_id, "task_id": ti_key.task_id, "run_id": ti_key.run_id}
        values = XCom.get_all(key=self.xcom_key, **identity)
        if not values:
            return ""
        if ti_key.map_index is None or ti_key.map_index < 0:
            return str(values[0])
        # A mapped task: the list holds every map index's value; read this one's.
        return str(XCom.get_value(ti_key=ti_key, key=self.xcom_key) or "")
