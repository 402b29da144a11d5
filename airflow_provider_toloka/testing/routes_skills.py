"""Routes of skills (``/skills``) and Toloker skills (``/user-skills``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.app import json_body, json_response, page_response
from airflow_provider_toloka.testing.paging import ListQuery
from airflow_provider_toloka.testing.skills import Skills
from airflow_provider_toloka.testing.store_access import StoreAccess


def skills_router(access: StoreAccess) -> APIRouter:
    """The skill endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    skills = Skills(access)
    router = APIRouter()

    @router.post("/skills")
    async def create_skill(request: Request) -> Response:
        return json_response(skills.create_skill(await json_body(request)), 201)

    @router.get("/skills")
    async def list_skills(request: Request) -> Response:
        params = request.query_params
        query = ListQuery.from_params(params, sort_fields=("id", "created"))
        return page_response(skills.list_skills(query, params.get("name"), params.get("global")))

    @router.get("/skills/{skill_id}")
    async def get_skill(skill_id: str) -> Response:
        return json_response(skills.get_skill(skill_id))

    @router.put("/skills/{skill_id}")
    async def update_skill(skill_id: str, request: Request) -> Response:
        return json_response(skills.update_skill(skill_id, await json_body(request)))

    @router.put("/user-skills")
    async def set_user_skill(request: Request) -> Response:
        return json_response(skills.set_user_skill(await json_body(request)))

    @router.get("/user-skills")
    async def list_user_skills(request: Request) -> Response:
        params = request.query_params
        query = ListQuery.from_params(params, sort_fields=("id", "created"))
        return page_response(skills.list_user_skills(query, params.get("user_id"), params.get("skill_id")))

    @router.get("/user-skills/{user_skill_id}")
    async def get_user_skill(user_skill_id: str) -> Response:
        return json_response(skills.get_user_skill(user_skill_id))

    @router.delete("/user-skills/{user_skill_id}")
    async def delete_user_skill(user_skill_id: str) -> Response:
        skills.delete_user_skill(user_skill_id)
        return Response(status_code=204)

    return router
