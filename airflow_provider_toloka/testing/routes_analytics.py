"""Route of the pool analytics, ``POST /api/staging/analytics-2`` (outside ``/api/v1``, as toloka-kit calls it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.analytics import Analytics
from airflow_provider_toloka.testing.app import json_body, json_response
from airflow_provider_toloka.testing.store_access import StoreAccess


def analytics_router(access: StoreAccess) -> APIRouter:
    """The analytics endpoint (mounted under ``/api`` with the API's authentication)."""
    analytics = Analytics(access)
    router = APIRouter()

    @router.post("/staging/analytics-2")
    async def start_analytics(request: Request) -> Response:
        return json_response(analytics.start(await json_body(request)), 202)

    return router
