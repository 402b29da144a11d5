"""Routes of training pools (``/trainings``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.app import _operation_or_no_content as operation_or_no_content
from airflow_provider_toloka.testing.app import json_body, json_response, page_response
from airflow_provider_toloka.testing.paging import ListQuery
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.trainings import Trainings


def trainings_router(access: StoreAccess) -> APIRouter:
    """The training endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    trainings = Trainings(access)
    router = APIRouter()

    @router.post("/trainings")
    async def create_training(request: Request) -> Response:
        return json_response(trainings.create(await json_body(request)), 201)

    @router.get("/trainings")
    async def list_trainings(request: Request) -> Response:
        params = request.query_params
        query = ListQuery.from_params(params, sort_fields=("id", "created"))
        return page_response(trainings.list(query, params.get("project_id"), params.get("status")))

    @router.get("/trainings/{training_id}")
    async def get_training(training_id: str) -> Response:
        return json_response(trainings.get(training_id))

    @router.put("/trainings/{training_id}")
    async def update_training(training_id: str, request: Request) -> Response:
        return json_response(trainings.update(training_id, await json_body(request)))

    @router.post("/trainings/{training_id}/open")
    async def open_training(training_id: str) -> Response:
        return operation_or_no_content(trainings.open(training_id))

    @router.post("/trainings/{training_id}/close")
    async def close_training(training_id: str) -> Response:
        return operation_or_no_content(trainings.close(training_id))

    @router.post("/trainings/{training_id}/archive")
    async def archive_training(training_id: str) -> Response:
        return operation_or_no_content(trainings.archive(training_id))

    return router
