"""Read-only HTML pages at the Toloka web UI's addresses, so that the "Toloka" extra link works locally.

``GET /requester/project/{project_id}``, ``/requester/project/{project_id}/pool/{pool_id}`` and
``/requester/operation/{operation_id}`` show what the emulator holds. They are outside the API (no
``Authorization`` needed), rendered on the server with inline CSS: no scripts, no external assets,
every value HTML-escaped. An unknown id gets a 404 page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from airflow_provider_toloka.testing.errors import ApiError
from airflow_provider_toloka.testing.operations import TASK_BATCH_CREATE
from airflow_provider_toloka.testing.paging import numeric_id
from airflow_provider_toloka.testing.state import EmulatorState

PAGES_PREFIX = "/requester"

#: Assignment statuses in the order a pool page shows them.
ASSIGNMENT_STATUSES = ("ACTIVE", "SUBMITTED", "ACCEPTED", "REJECTED", "SKIPPED", "EXPIRED")
#: A task is completed once one of its assignments has one of these statuses.
COMPLETED_STATUSES = frozenset({"SUBMITTED", "ACCEPTED"})

_STATUS_COLOURS = {
    "OPEN": "#1a7f37",
    "ACTIVE": "#1a7f37",
    "SUCCESS": "#1a7f37",
    "RUNNING": "#0969da",
    "PENDING": "#9a6700",
    "CLOSED": "#57606a",
    "ARCHIVED": "#57606a",
    "FAIL": "#cf222e",
}

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328;
       background: #f6f8fa; }
header { background: #1f2328; color: #fff; padding: 10px 24px; font-weight: 600; }
header small { font-weight: 400; opacity: .7; margin-left: 8px; }
main { max-width: 960px; margin: 24px auto; padding: 0 24px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 16px 20px; margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 0 0 12px; }
a { color: #0969da; } .muted { color: #57606a; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { color: #57606a; font-weight: 500; width: 35%; }
thead th { width: auto; }
.status { display: inline-block; color: #fff; border-radius: 10px; padding: 0 10px; font-size: 13px; }
.bar { background: #eaeef2; border-radius: 6px; height: 14px; overflow: hidden; margin: 6px 0; }
.bar div { background: #2da44e; height: 100%; }
"""


def add_pages(app: FastAPI, state: EmulatorState) -> None:
    """Serve the pages of ``state`` from ``app`` (no authentication).

    :param app: the emulator's application.
    :param state: the store the pages show.
    """
    router = APIRouter(prefix=PAGES_PREFIX)

    @router.get("/project/{project_id}")
    def project_page(project_id: str) -> HTMLResponse:
        return _page(lambda: render_project(state, project_id))

    @router.get("/project/{project_id}/pool/{pool_id}")
    def pool_page(project_id: str, pool_id: str) -> HTMLResponse:
        return _page(lambda: render_pool(state, project_id, pool_id))

    @router.get("/operation/{operation_id}")
    def operation_page(operation_id: str) -> HTMLResponse:
        return _page(lambda: render_operation(state, operation_id))

    app.include_router(router)


def _page(render: Any) -> HTMLResponse:
    """The rendered page, or a 404 page when ``render`` finds no such object."""
    try:
        title, body = render()
    except ApiError as exc:
        if exc.status != 404:
            raise
        return HTMLResponse(layout("Not found", section("Not found", f"<p>{escape(exc.message)}</p>")), 404)
    return HTMLResponse(layout(title, body))


# -- pages ----------------------------------------------------------------------------------


def render_project(state: EmulatorState, project_id: str) -> tuple[str, str]:
    """Title and body of a project page: its name, status and pools.

    :raises ApiError: 404 for an unknown project.
    """
    with state.lock:
        project = state.get_project(project_id)
        pools = sorted(
            (pool for pool in state.pools.values() if pool["project_id"] == project_id),
            key=lambda pool: numeric_id(pool["id"]),
        )
        rows = [
            (
                link(pool_path(project_id, pool["id"]), pool["id"]),
                escape(str(pool.get("private_name", ""))),
                status_badge(pool["status"]),
                str(state.task_count(pool["id"])),
            )
            for pool in pools
        ]
    name = str(project.get("public_name") or f"Project {project_id}")
    summary = facts(
        [
            ("Project id", escape(project_id)),
            ("Status", status_badge(project.get("status", ""))),
            ("Created", utc(project.get("created"))),
            ("Description", escape(str(project.get("public_description", "")))),
        ]
    )
    pool_table = table(("Pool", "Name", "Status", "Tasks"), rows) if rows else "<p class='muted'>No pools yet.</p>"
    return name, heading(name, "Project") + section("Project", summary) + section(f"Pools ({len(rows)})", pool_table)


def render_pool(state: EmulatorState, project_id: str, pool_id: str) -> tuple[str, str]:
    """Title and body of a pool page: name, status, task and assignment counts, completed tasks.

    :raises ApiError: 404 for an unknown pool, or a pool of another project.
    """
    with state.lock:
        pool = state.get_pool(pool_id)
        if pool["project_id"] != project_id:
            raise ApiError(404, "DOES_NOT_EXIST", f"Pool {pool_id} is not in project {project_id}")
        project = state.get_project(project_id)
        task_count = state.task_count(pool_id)
        assignments = [item for item in state.assignments.values() if item["pool_id"] == pool_id]
    by_status = Counter(item["status"] for item in assignments)
    completed = {
        task["id"]
        for item in assignments
        if item["status"] in COMPLETED_STATUSES
        for task in item.get("tasks", ())
        if "id" in task
    }
    name = str(pool.get("private_name") or f"Pool {pool_id}")
    project_name = str(project.get("public_name") or f"Project {project_id}")
    summary = facts(
        [
            ("Pool id", escape(pool_id)),
            ("Project", link(project_path(project_id), project_name)),
            ("Status", status_badge(pool["status"])),
            ("Created", utc(pool.get("created"))),
            ("Last started", utc(pool.get("last_started"))),
            ("Last stopped", utc(pool.get("last_stopped"))),
            ("Last close reason", escape(str(pool.get("last_close_reason", "")))),
            ("Expires", utc(pool.get("will_expire"))),
            ("Reward per assignment", escape(str(pool.get("reward_per_assignment", "")))),
        ]
    )
    counts = facts(
        [("Tasks", str(task_count))]
        + [(f"Assignments {status.lower()}", str(by_status.get(status, 0))) for status in ASSIGNMENT_STATUSES]
    )
    progress = progress_bar(
        percent_of(len(completed), task_count),
        f"{len(completed)} of {task_count} tasks completed (with a submitted or accepted assignment)",
    )
    body = heading(name, "Pool") + section("Pool", summary) + section("Progress", progress + counts)
    return name, body


def render_operation(state: EmulatorState, operation_id: str) -> tuple[str, str]:
    """Title and body of an operation page: type, status, progress, times, details and its pools.

    :raises ApiError: 404 for an unknown operation.
    """
    with state.lock:
        operation = state.get_operation(operation_id)
        pools = [
            (state.pools[pool_id]["project_id"], pool_id)
            for pool_id in operation_pool_ids(operation, state.operation_log(operation_id))
            if pool_id in state.pools
        ]
    status = operation["status"]
    summary = facts(
        [
            ("Operation id", escape(operation_id)),
            ("Type", escape(operation["type"])),
            ("Status", status_badge(status)),
            ("Submitted", utc(operation.get("submitted"))),
            ("Started", utc(operation.get("started"))),
            ("Finished", utc(operation.get("finished"))),
            ("Pool", ", ".join(link(pool_path(project, pool), f"Pool {pool}") for project, pool in pools)),
        ]
    )
    percent = int(operation.get("progress", 0))
    progress = progress_bar(percent, f"{percent}% done")
    details = facts((escape(key), escape(str(value))) for key, value in operation.get("details", {}).items())
    parameters = facts((escape(key), escape(str(value))) for key, value in operation.get("parameters", {}).items())
    title = f"{operation['type']} {status}"
    body = (
        heading(title, "Operation")
        + section("Operation", progress + summary)
        + section("Details", details or "<p class='muted'>None.</p>")
        + section("Parameters", parameters or "<p class='muted'>None.</p>")
    )
    return title, body


def operation_pool_ids(operation: Mapping[str, Any], log: Iterable[Mapping[str, Any]]) -> list[str]:
    """The pools an operation works on: its ``pool_id`` parameter, or (task uploads) the pools in its log.

    :param operation: the operation as the API shows it.
    :param log: its log lines (empty until it has finished).
    """
    pool_id = operation.get("parameters", {}).get("pool_id")
    if pool_id is not None:
        return [str(pool_id)]
    if operation.get("type") != TASK_BATCH_CREATE:
        return []
    found = dict.fromkeys(str(line["input"]["pool_id"]) for line in log if "pool_id" in line.get("input", {}))
    return list(found)


# -- addresses ------------------------------------------------------------------------------


def project_path(project_id: str) -> str:
    """The page of a project."""
    return f"{PAGES_PREFIX}/project/{project_id}"


def pool_path(project_id: str, pool_id: str) -> str:
    """The page of a pool."""
    return f"{project_path(project_id)}/pool/{pool_id}"


# -- HTML pieces (every argument that is not already HTML is escaped) ----------------------------


def layout(title: str, body: str) -> str:
    """A whole page around ``body`` (HTML)."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)} - Toloka emulator</title><style>{_STYLE}</style></head>"
        f"<body><header>Toloka emulator<small>local pages, read-only</small></header><main>{body}</main></body></html>"
    )


def heading(title: str, kind: str) -> str:
    """The page's title with the kind of object above it."""
    return f"<p class='muted'>{escape(kind)}</p><h1>{escape(title)}</h1>"


def section(title: str, content: str) -> str:
    """A titled box around ``content`` (HTML)."""
    return f"<section><h2>{escape(title)}</h2>{content}</section>"


def facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of ``(label, HTML value)``; empty values are left out, no rows gives ``""``."""
    cells = "".join(f"<tr><th>{escape(label)}</th><td>{value}</td></tr>" for label, value in rows if value)
    return f"<table>{cells}</table>" if cells else ""


def table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    """A table with a header row; cells are HTML."""
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def link(href: str, text: str) -> str:
    """An anchor to ``href`` showing ``text``."""
    return f"<a href='{escape(href, quote=True)}'>{escape(text)}</a>"


def status_badge(status: str) -> str:
    """A coloured status label."""
    colour = _STATUS_COLOURS.get(status, "#57606a")
    return f"<span class='status' style='background:{colour}'>{escape(status)}</span>"


def percent_of(done: int, total: int) -> int:
    """``done`` as a whole percentage of ``total`` (0 when there is nothing to do)."""
    return min(100, 100 * done // total) if total > 0 else 0


def progress_bar(percent: int, caption: str) -> str:
    """A bar filled to ``percent`` with its caption below."""
    percent = max(0, min(100, percent))
    return (
        f"<div class='bar' role='progressbar' aria-valuenow='{percent}' aria-valuemin='0' aria-valuemax='100'>"
        f"<div style='width:{percent}%'></div></div><p>{escape(caption)}</p>"
    )


def utc(timestamp: Any) -> str:
    """An API timestamp shown as UTC; empty when absent."""
    return f"{escape(str(timestamp))} UTC" if timestamp else ""
