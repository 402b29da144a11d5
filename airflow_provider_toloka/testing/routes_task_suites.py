"""Routes of task suites (``/task-suites``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.routing import (
    Routes,
    bool_param,
    json_body,
    json_response,
    overlap_query,
    page_response,
)
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.task_suites import TaskSuites


def task_suites_router(access: StoreAccess) -> APIRouter:
    """The task suite endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    suites = TaskSuites(access)
    router = APIRouter()
    routes = Routes(router)
    routes.upload(
        "/task-suites",
        "a task suite or an array of task suites",
        suites.uploads.create_one,
        suites.uploads.create_sync,
        suites.uploads.create_async,
    )

    @router.get("/task-suites")
    async def list_task_suites(request: Request) -> Response:
        params = request.query_params
        return page_response(suites.page(overlap_query(params), params.get("pool_id"), params.get("task_id")))

    routes.add("GET", "/task-suites/{suite_id}", suites.get)

    @router.patch("/task-suites/{suite_id}")
    async def patch_task_suite(suite_id: str, request: Request) -> Response:
        open_pool = bool_param(request.query_params, "open_pool")
        return json_response(suites.patch(suite_id, await json_body(request), open_pool))

    routes.add("PATCH", "/task-suites/{suite_id}/set-overlap-or-min", suites.set_overlap_or_min, body=True)

    return router
