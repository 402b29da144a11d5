"""Routes of training pools (``/trainings``)."""

from __future__ import annotations

from fastapi import APIRouter

from airflow_provider_toloka.testing.routing import Routes, created, operation_or_no_content
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.trainings import Trainings


def trainings_router(access: StoreAccess) -> APIRouter:
    """The training endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    trainings = Trainings(access)
    router = APIRouter()
    routes = Routes(router)
    routes.add("POST", "/trainings", trainings.create, body=True, answer=created)
    routes.listing("/trainings", trainings.list, ("project_id", "status"))
    routes.add("GET", "/trainings/{training_id}", trainings.get)
    routes.add("PUT", "/trainings/{training_id}", trainings.update, body=True)
    routes.add("POST", "/trainings/{training_id}/open", trainings.open, answer=operation_or_no_content)
    routes.add("POST", "/trainings/{training_id}/close", trainings.close, answer=operation_or_no_content)
    routes.add("POST", "/trainings/{training_id}/archive", trainings.archive, answer=operation_or_no_content)
    return router
