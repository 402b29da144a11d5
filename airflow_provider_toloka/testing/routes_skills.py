"""Routes of skills (``/skills``) and Toloker skills (``/user-skills``)."""

from __future__ import annotations

from fastapi import APIRouter

from airflow_provider_toloka.testing.routing import Routes, created, no_content
from airflow_provider_toloka.testing.skills import Skills
from airflow_provider_toloka.testing.store_access import StoreAccess


def skills_router(access: StoreAccess) -> APIRouter:
    """The skill endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    skills = Skills(access)
    router = APIRouter()
    routes = Routes(router)
    routes.add("POST", "/skills", skills.create_skill, body=True, answer=created)
    routes.listing("/skills", skills.list_skills, ("name", "global"))
    routes.add("GET", "/skills/{skill_id}", skills.get_skill)
    routes.add("PUT", "/skills/{skill_id}", skills.update_skill, body=True)
    routes.add("PUT", "/user-skills", skills.set_user_skill, body=True)
    routes.listing("/user-skills", skills.list_user_skills, ("user_id", "skill_id"))
    routes.add("GET", "/user-skills/{user_skill_id}", skills.get_user_skill)
    routes.add("DELETE", "/user-skills/{user_skill_id}", skills.delete_user_skill, answer=no_content)
    return router
