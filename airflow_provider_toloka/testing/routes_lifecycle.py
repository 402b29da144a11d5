"""Routes of the pool, project and task lifecycle (archive, clone, edit, close for update, patch)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.app import _operation_or_no_content as operation_or_no_content
from airflow_provider_toloka.testing.app import json_body as read_json
from airflow_provider_toloka.testing.app import json_response
from airflow_provider_toloka.testing.lifecycle import Lifecycle
from airflow_provider_toloka.testing.store_access import StoreAccess


def lifecycle_router(access: StoreAccess) -> APIRouter:
    """The lifecycle endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    lifecycle = Lifecycle(access)
    router = APIRouter()

    @router.post("/pools/{pool_id}/archive")
    async def archive_pool(pool_id: str) -> Response:
        return operation_or_no_content(lifecycle.archive_pool(pool_id))

    @router.post("/pools/{pool_id}/clone")
    async def clone_pool(pool_id: str) -> Response:
        return json_response(lifecycle.clone_pool(pool_id), 202)

    @router.post("/pools/{pool_id}/close-for-update")
    async def close_pool_for_update(pool_id: str) -> Response:
        return operation_or_no_content(lifecycle.close_pool_for_update(pool_id))

    @router.put("/pools/{pool_id}")
    async def update_pool(pool_id: str, request: Request) -> Response:
        return json_response(lifecycle.update_pool(pool_id, await read_json(request)))

    @router.patch("/pools/{pool_id}")
    async def patch_pool(pool_id: str, request: Request) -> Response:
        return _or_conflict(lifecycle.patch_pool(pool_id, await read_json(request)))

    @router.put("/projects/{project_id}")
    async def update_project(project_id: str, request: Request) -> Response:
        return json_response(lifecycle.update_project(project_id, await read_json(request)))

    @router.post("/projects/{project_id}/archive")
    async def archive_project(project_id: str) -> Response:
        return operation_or_no_content(lifecycle.archive_project(project_id))

    @router.patch("/tasks/{task_id}")
    async def patch_task(task_id: str, request: Request) -> Response:
        return json_response(lifecycle.patch_task(task_id, await read_json(request)))

    @router.patch("/tasks/{task_id}/set-overlap-or-min")
    async def set_overlap_or_min(task_id: str, request: Request) -> Response:
        return json_response(lifecycle.set_overlap_or_min(task_id, await read_json(request)))

    return router


def _or_conflict(pool: dict[str, Any] | None) -> Response:
    """The pool, or the reference's empty 409 answer for an archived pool."""
    return Response(status_code=409) if pool is None else json_response(pool)
