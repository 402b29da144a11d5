"""Routes of the pool, project and task lifecycle (archive, clone, edit, close for update, patch)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from airflow_provider_toloka.testing.lifecycle import Lifecycle
from airflow_provider_toloka.testing.routing import Routes, accepted, json_response, operation_or_no_content
from airflow_provider_toloka.testing.store_access import StoreAccess


def lifecycle_router(access: StoreAccess) -> APIRouter:
    """The lifecycle endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    lifecycle = Lifecycle(access)
    router = APIRouter()
    routes = Routes(router)
    routes.add("POST", "/pools/{pool_id}/archive", lifecycle.archive_pool, answer=operation_or_no_content)
    routes.add("POST", "/pools/{pool_id}/clone", lifecycle.clone_pool, answer=accepted)
    routes.add(
        "POST", "/pools/{pool_id}/close-for-update", lifecycle.close_pool_for_update, answer=operation_or_no_content
    )
    routes.add("PUT", "/pools/{pool_id}", lifecycle.update_pool, body=True)
    routes.add("PATCH", "/pools/{pool_id}", lifecycle.patch_pool, body=True, answer=_or_conflict)
    routes.add("PUT", "/projects/{project_id}", lifecycle.update_project, body=True)
    routes.add("POST", "/projects/{project_id}/archive", lifecycle.archive_project, answer=operation_or_no_content)
    routes.add("PATCH", "/tasks/{task_id}", lifecycle.patch_task, body=True)
    routes.add("PATCH", "/tasks/{task_id}/set-overlap-or-min", lifecycle.set_overlap_or_min, body=True)
    return router


def _or_conflict(pool: dict[str, Any] | None) -> Response:
    """The pool, or the reference's empty 409 answer for an archived pool."""
    return Response(status_code=409) if pool is None else json_response(pool)
