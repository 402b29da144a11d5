"""FastAPI routes of the emulated Toloka API (``/api/v1``).

Answers are pre-serialized JSON (``routing.py``). Errors are ``{"request_id", "code", "message"}`` plus
``payload`` when there are details.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_toloka.testing.errors import ApiError, error_body, validation_error
from airflow_provider_toloka.testing.pages import add_pages
from airflow_provider_toloka.testing.paging import ListQuery, parse_int
from airflow_provider_toloka.testing.routing import (
    Routes,
    created,
    json_response,
    operation_or_no_content,
    page_response,
    parse_json,
)
from airflow_provider_toloka.testing.routing import (
    json_body as json_body,  # re-exported: routes_* modules import it from here
)
from airflow_provider_toloka.testing.state import MAX_ASYNC_TASKS, EmulatorState
from airflow_provider_toloka.testing.timefmt import parse_time

API_PREFIX = "/api/v1"
AUTH_SCHEMES = ("oauth", "apikey")
TRUE_VALUES = ("true", "1")
#: The documented range filters of GET /tasks.
TASK_RANGE_FIELDS = {"created": parse_time, "overlap": parse_int}
FALSE_VALUES = ("false", "0")


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

    routes = Routes(router)
    routes.add("GET", "/requester", state.labeling.requester)
    routes.add("POST", "/projects", state.create_project, body=True, answer=created)
    routes.listing(
        "/projects",
        state.list_projects,
        ("status", "owner"),
        sort_fields=("id", "created", "public_name", "private_comment"),
    )
    routes.add("GET", "/projects/{project_id}", state.get_project)
    routes.add("POST", "/pools", state.create_pool, body=True, answer=created)
    routes.listing(
        "/pools",
        state.list_pools,
        ("project_id", "status"),
        sort_fields=("id", "created", "last_started"),
        range_fields={"created": parse_time, "last_started": parse_time},
    )
    routes.add("GET", "/pools/{pool_id}", state.get_pool)
    routes.add("POST", "/pools/{pool_id}/open", state.open_pool, answer=operation_or_no_content)
    routes.add("POST", "/pools/{pool_id}/close", state.close_pool, answer=operation_or_no_content)

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

    routes.add("GET", "/tasks/{task_id}", state.get_task)
    routes.listing(
        "/operations",
        state.list_operations,
        ("type", "status"),
        max_limit=500,
        sort_fields=("id", "submitted", "finished"),
        range_fields={"submitted": parse_time, "finished": parse_time},
    )
    routes.add("GET", "/operations/{operation_id}", state.get_operation)
    routes.add("GET", "/operations/{operation_id}/log", state.operation_log)
    from airflow_provider_toloka.testing.routes_extra import add_extra_routes  # its routes import this module
    from airflow_provider_toloka.testing.routes_results import add_results_routes

    add_extra_routes(app, router, state)
    add_results_routes(app, router, state.labeling)
    app.include_router(router)
    add_pages(app, state)
    return app


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
