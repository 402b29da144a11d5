"""Routes of the results side: assignments, aggregation, and the emulator-only ground truth.

``GET /_emulator/ground-truth?pool_id=...`` is outside the API (no token), like the outage control.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.errors import field_error, validation_error
from airflow_provider_toloka.testing.labeling import Labeling
from airflow_provider_toloka.testing.routing import Routes, created, json_response, page_response

#: The emulator-only control that reveals the hidden true answers of a pool's tasks.
GROUND_TRUTH_PATH = "/_emulator/ground-truth"


def results_router(labeling: Labeling) -> APIRouter:
    """``/assignments``, ``/assignments/{id}``, ``/aggregated-solutions/...`` (mounted under ``/api/v1``)."""
    router = APIRouter()
    routes = Routes(router)
    routes.add("GET", "/assignments", labeling.list_assignments, query=True, answer=page_response)
    routes.add("GET", "/assignments/{assignment_id}", labeling.get_assignment)
    routes.add("PATCH", "/assignments/{assignment_id}", labeling.review_assignment, body=True)
    aggregations = labeling.aggregations
    routes.add("POST", "/aggregated-solutions/aggregate-by-pool", aggregations.start, body=True, answer=created)
    routes.add("GET", "/aggregated-solutions/{operation_id}", aggregations.page, query=True, answer=page_response)
    return router


def control_router(labeling: Labeling) -> APIRouter:
    """Emulator-only controls, outside the API."""
    router = APIRouter()

    @router.get(GROUND_TRUTH_PATH)
    async def ground_truth(request: Request) -> Response:
        pool_id = request.query_params.get("pool_id")
        if not pool_id:
            raise validation_error({"pool_id": field_error("VALUE_REQUIRED", "pool_id is required")})
        return json_response(labeling.ground_truth(pool_id))

    return router


def add_results_routes(app: FastAPI, api_router: APIRouter, labeling: Labeling) -> None:
    """Add the results routes under ``api_router`` (call before it is included) and the controls to ``app``."""
    api_router.include_router(results_router(labeling))
    app.include_router(control_router(labeling))
