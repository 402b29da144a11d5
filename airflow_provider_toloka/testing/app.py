"""FastAPI routes of the emulated Toloka API (``/api/v1``).

Bodies are parsed with ``json.loads`` and answers are pre-serialized JSON: no per-task pydantic
work on the hot path. Errors are ``{"request_id", "code", "message"}`` plus ``payload`` when there are details.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_toloka.testing.errors import ApiError, error_body, validation_error
from airflow_provider_toloka.testing.pages import add_pages
from airflow_provider_toloka.testing.paging import ListQuery, parse_int
from airflow_provider_toloka.testing.state import MAX_ASYNC_TASKS, EmulatorState
from airflow_provider_toloka.testing.timefmt import parse_time

API_PREFIX = "/api/v1"
AUTH_SCHEMES = ("oauth", "apikey")
TRUE_VALUES = ("true", "1")
#: The documented range filters of GET /tasks.
TASK_RANGE_FIELDS = {"created": parse_time, "overlap": parse_int}
FALSE_VALUES = ("false", "0")


def json_response(content: Any, status: int = 200) -> Response:
    """A JSON answer serialized once with the standard library."""
    return Response(json.dumps(content).encode(), status_code=status, media_type="application/json")


def page_response(page: tuple[list[dict[str, Any]], bool]) -> Response:
    """``{"items": [...], "has_more": bool}``."""
    items, has_more = page
    return json_response({"items": items, "has_more": has_more})


def bool_param(params: Mapping[str, str], name: str) -> bool:
    """A boolean query parameter (``true``/``false``, any case; absent is false)."""
    value = params.get(name)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise validation_error({name: {"code": "INVALID_VALUE", "message": "Expected true or false"}})


def operation_id_param(params: Mapping[str, str]) -> str | None:
    """The ``operation_id`` query parameter, kept as sent; it must be a UUID (RFC 4122)."""
    value = params.get("operation_id")
    if value is None:
        return None
    try:
        uuid.UUID(value)
        return value
    except ValueError:
        raise validation_error(
            {"operation_id": {"code": "INVALID_VALUE", "message": "operation_id must be a UUID (RFC 4122)"}}
        ) from None


def parse_json(raw: bytes) -> Any:
    """A request body parsed as JSON (400 VALIDATION_ERROR, field code JSON_EXPECTED, when it is not)."""
    try:
        return json.loads(raw)
    except ValueError:
        raise validation_error({"body": {"code": "JSON_EXPECTED", "message": "The body is not valid JSON"}}) from None


async def json_body(request: Request) -> Any:
    """The request body parsed as JSON (400 VALIDATION_ERROR when it is not)."""
    return parse_json(await request.body())


def make_authenticator(token: str | None):
    """A dependency that accepts ``Authorization: OAuth <token>`` or ``ApiKey <token>``."""

    def authenticate(request: Request) -> None:
        scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
        given = given.strip()
        if scheme.lower() not in AUTH_SCHEMES or not given or (token is not None and given != token):
            raise ApiError(
                401,
                "AUTHENTICATION_ERROR",
                "Authentication failed: send 'Authorization: OAuth <token>' or 'ApiKey <token>'",
                None,
            )

    return authenticate


def create_app(state: EmulatorState) -> FastAPI:
    """Build the FastAPI application serving ``state``."""
    app = FastAPI(title="Toloka API emulator", openapi_url=None, docs_url=None, redoc_url=None)
    router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(make_authenticator(state.config.token))])
    _add_exception_handlers(app)

    @router.get("/requester")
    async def get_requester() -> Response:
        return json_response(state.labeling.requester())

    @router.post("/projects")
    async def create_project(request: Request) -> Response:
        return json_response(state.create_project(await json_body(request)), 201)

    @router.get("/projects")
    async def list_projects(request: Request) -> Response:
        params = request.query_params
        query = ListQuery.from_params(params, sort_fields=("id", "created", "public_name", "private_comment"))
        return page_response(state.list_projects(query, params.get("status"), params.get("owner")))

    @router.get("/projects/{project_id}")
    async def get_project(project_id: str) -> Response:
        return json_response(state.get_project(project_id))

    @router.post("/pools")
    async def create_pool(request: Request) -> Response:
        return json_response(state.create_pool(await json_body(request)), 201)

    @router.get("/pools")
    async def list_pools(request: Request) -> Response:
        params = request.query_params
        query = ListQuery.from_params(
            params,
            sort_fields=("id", "created", "last_started"),
            range_fields={"created": parse_time, "last_started": parse_time},
        )
        return page_response(state.list_pools(query, params.get("project_id"), params.get("status")))

    @router.get("/pools/{pool_id}")
    async def get_pool(pool_id: str) -> Response:
        return json_response(state.get_pool(pool_id))

    @router.post("/pools/{pool_id}/open")
    async def open_pool(pool_id: str) -> Response:
        return _operation_or_no_content(state.open_pool(pool_id))

    @router.post("/pools/{pool_id}/close")
    async def close_pool(pool_id: str) -> Response:
        return _operation_or_no_content(state.close_pool(pool_id))

    @router.post("/tasks")
    async def create_tasks(request: Request) -> Response:
        params = request.query_params
        raw = await request.body()
        body = parse_json(raw)
        if not isinstance(body, (dict, list)):
            raise validation_error({"body": {"code": "OBJECT_EXPECTED", "message": "Send a task or an array of tasks"}})
        allow_defaults = bool_param(params, "allow_defaults")
        skip_invalid_items = bool_param(params, "skip_invalid_items")
        if not bool_param(params, "async_mode"):
            if isinstance(body, dict):
                return json_response(state.create_task(body, allow_defaults), 201)
            return json_response(state.create_tasks_sync(body, skip_invalid_items, allow_defaults, len(raw)), 201)
        operation = state.create_tasks_async(
            body if isinstance(body, list) else [body],
            allow_defaults=allow_defaults,
            skip_invalid_items=skip_invalid_items,
            open_pool=bool_param(params, "open_pool"),
            operation_id=operation_id_param(params),
            body_size=len(raw),
        )
        return json_response(operation, 201)

    @router.get("/tasks")
    async def list_tasks(request: Request) -> Response:
        params = request.query_params
        if not params.get("pool_id"):
            raise validation_error({"pool_id": {"code": "VALUE_REQUIRED", "message": "pool_id is required"}})
        query = ListQuery.from_params(params, max_limit=MAX_ASYNC_TASKS, range_fields=TASK_RANGE_FIELDS)
        overlap = params.get("overlap")
        if overlap is not None:  # overlap=N is overlap_gte=N and overlap_lte=N
            query = ListQuery.from_params(
                {**params, "overlap_gte": overlap, "overlap_lte": overlap},
                max_limit=MAX_ASYNC_TASKS,
                range_fields=TASK_RANGE_FIELDS,
            )
        return page_response(state.list_tasks(query, params.get("pool_id")))

    @router.get("/tasks/{task_id}")
    async def get_task(task_id: str) -> Response:
        return json_response(state.get_task(task_id))

    @router.get("/operations")
    async def list_operations(request: Request) -> Response:
        params = request.query_params
        query = ListQuery.from_params(
            params,
            max_limit=500,
            sort_fields=("id", "submitted", "finished"),
            range_fields={"submitted": parse_time, "finished": parse_time},
        )
        return page_response(state.list_operations(query, params.get("type"), params.get("status")))

    @router.get("/operations/{operation_id}")
    async def get_operation(operation_id: str) -> Response:
        return json_response(state.get_operation(operation_id))

    @router.get("/operations/{operation_id}/log")
    async def get_operation_log(operation_id: str) -> Response:
        return json_response(state.operation_log(operation_id))

    from airflow_provider_toloka.testing.routes_extra import add_extra_routes  # imports this module
    from airflow_provider_toloka.testing.routes_results import add_results_routes  # imports this module

    add_extra_routes(app, router, state)
    add_results_routes(app, router, state.labeling)
    app.include_router(router)
    add_pages(app, state)
    return app


def _operation_or_no_content(operation: dict[str, Any] | None) -> Response:
    """202 with the operation, or 204 when there was nothing to do."""
    return Response(status_code=204) if operation is None else json_response(operation, 202)


def _add_exception_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return Response(exc.body(), status_code=exc.status, headers=exc.headers, media_type="application/json")

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "DOES_NOT_EXIST", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "INTERNAL_ERROR")
        body = error_body(code, str(exc.detail), None)
        return Response(body, status_code=exc.status_code, media_type="application/json")

    async def request_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return Response(
            error_body("VALIDATION_ERROR", "Invalid request", str(exc.errors())),
            status_code=400,
            media_type="application/json",
        )

    async def internal_error(_: Request, exc: Exception) -> Response:
        return Response(
            error_body("INTERNAL_ERROR", f"Internal error: {type(exc).__name__}", None),
            status_code=500,
            media_type="application/json",
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_error)
    app.add_exception_handler(Exception, internal_error)
