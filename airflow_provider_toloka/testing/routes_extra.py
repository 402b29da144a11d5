"""Registration of the endpoints added beside the core ones in ``app.py``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from airflow_provider_toloka.testing.routes_analytics import analytics_router
from airflow_provider_toloka.testing.routes_attachments import attachments_router
from airflow_provider_toloka.testing.routes_lifecycle import lifecycle_router
from airflow_provider_toloka.testing.routes_skills import skills_router
from airflow_provider_toloka.testing.routes_task_suites import task_suites_router
from airflow_provider_toloka.testing.routes_trainings import trainings_router
from airflow_provider_toloka.testing.state import EmulatorState
from airflow_provider_toloka.testing.store_access import StoreAccess


def add_extra_routes(app: FastAPI, api_router: APIRouter, state: EmulatorState) -> None:
    """Add the extra endpoints: under ``api_router`` (``/api/v1``, call before it is included) and ``/api``.

    :param app: the application (the analytics route is outside ``/api/v1``).
    :param api_router: the ``/api/v1`` router, whose authentication the extra routes share.
    :param state: the emulator's store.
    """
    access = StoreAccess(state)
    for router in (lifecycle_router, skills_router, trainings_router, attachments_router, task_suites_router):
        api_router.include_router(router(access))
    app.include_router(analytics_router(access), prefix="/api", dependencies=api_router.dependencies)
