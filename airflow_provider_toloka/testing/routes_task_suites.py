"""Routes of task suites (``/task-suites``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.errors import validation_error
from airflow_provider_toloka.testing.paging import ListQuery
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.task_suites import TaskSuites


def task_suites_router(access: StoreAccess) -> APIRouter:
    """The task suite endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    from airflow_provider_toloka.testing.app import (  # app.py imports this module
        TASK_RANGE_FIELDS,
        bool_param,
        json_response,
        operation_id_param,
        page_response,
        parse_json,
    )

    suites = TaskSuites(access)
    router = APIRouter()

    @router.post("/task-suites")
    async def create_task_suites(request: Request) -> Response:
        params = request.query_params
        raw = await request.body()
        body = parse_json(raw)
        if not isinstance(body, (dict, list)):
            message = "Send a task suite or an array of task suites"
            raise validation_error({"body": {"code": "OBJECT_EXPECTED", "message": message}})
        allow_defaults = bool_param(params, "allow_defaults")
        skip_invalid_items = bool_param(params, "skip_invalid_items")
        if not bool_param(params, "async_mode"):
            if isinstance(body, dict):
                return json_response(suites.create_one(body, allow_defaults), 201)
            return json_response(suites.create_sync(body, skip_invalid_items, allow_defaults, len(raw)), 201)
        operation = suites.create_async(
            body if isinstance(body, list) else [body],
            allow_defaults=allow_defaults,
            skip_invalid_items=skip_invalid_items,
            open_pool=bool_param(params, "open_pool"),
            operation_id=operation_id_param(params),
            body_size=len(raw),
        )
        return json_response(operation, 201)

    @router.get("/task-suites")
    async def list_task_suites(request: Request) -> Response:
        params = dict(request.query_params)
        if params.get("overlap") is not None:  # overlap=N is overlap_gte=N and overlap_lte=N
            params.update(overlap_gte=params["overlap"], overlap_lte=params["overlap"])
        query = ListQuery.from_params(params, range_fields=TASK_RANGE_FIELDS)
        return page_response(suites.page(query, params.get("pool_id"), params.get("task_id")))

    @router.get("/task-suites/{suite_id}")
    async def get_task_suite(suite_id: str) -> Response:
        return json_response(suites.get(suite_id))

    @router.patch("/task-suites/{suite_id}")
    async def patch_task_suite(suite_id: str, request: Request) -> Response:
        open_pool = bool_param(request.query_params, "open_pool")
        return json_response(suites.patch(suite_id, parse_json(await request.body()), open_pool))

    @router.patch("/task-suites/{suite_id}/set-overlap-or-min")
    async def set_task_suite_overlap_or_min(suite_id: str, request: Request) -> Response:
        return json_response(suites.set_overlap_or_min(suite_id, parse_json(await request.body())))

    return router
