"""FastAPI routes of the emulated Toloka API (``/api/v1``).

Answers are pre-serialized JSON (``routing.py``). Errors are ``{"request_id", "code", "message"}`` plus
``payload`` when there are details.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_toloka.testing.errors import ApiError, error_body, validation_error
from airflow_provider_toloka.testing.pages import add_pages
from airflow_provider_toloka.testing.routes_extra import add_extra_routes
from airflow_provider_toloka.testing.routes_results import add_results_routes
from airflow_provider_toloka.testing.routing import (
    Routes,
    created,
    operation_or_no_content,
    overlap_query,
    page_response,
)
from airflow_provider_toloka.testing.state import EmulatorState
from airflow_provider_toloka.testing.timefmt import parse_time
from airflow_provider_toloka.testing.uploads import MAX_ASYNC_TASKS

API_PREFIX = "/api/v1"
AUTH_SCHEMES = ("oauth", "apikey")


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

    routes.upload(
        "/tasks", "a task or an array of tasks", state.create_task, state.create_tasks_sync, state.create_tasks_async
    )

    @router.get("/tasks")
    async def list_tasks(request: Request) -> Response:
        params = request.query_params
        if not params.get("pool_id"):
            raise validation_error({"pool_id": {"code": "VALUE_REQUIRED", "message": "pool_id is required"}})
        return page_response(state.list_tasks(overlap_query(params, max_limit=MAX_ASYNC_TASKS), params.get("pool_id")))

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
