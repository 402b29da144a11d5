"""Route of the pool analytics, ``POST /api/staging/analytics-2`` (outside ``/api/v1``, as toloka-kit calls it)."""

from __future__ import annotations

from fastapi import APIRouter

from airflow_provider_toloka.testing.analytics import Analytics
from airflow_provider_toloka.testing.routing import Routes, accepted
from airflow_provider_toloka.testing.store_access import StoreAccess


def analytics_router(access: StoreAccess) -> APIRouter:
    """The analytics endpoint (mounted under ``/api`` with the API's authentication)."""
    router = APIRouter()
    Routes(router).add("POST", "/staging/analytics-2", Analytics(access).start, body=True, answer=accepted)
    return router
