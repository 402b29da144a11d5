"""Skills (``/skills``) and Toloker skills (``/user-skills``) of the emulator."""

from __future__ import annotations

from typing import Any

from airflow_provider_toloka.testing.body_checks import (
    check_number,
    check_required,
    check_types,
    raise_if_any,
    refuse_unknown,
    require_object,
)
from airflow_provider_toloka.testing.errors import does_not_exist, field_error, validation_error
from airflow_provider_toloka.testing.paging import ListQuery, numeric_id, page_objects
from airflow_provider_toloka.testing.state import OWNER
from airflow_provider_toloka.testing.store_access import StoreAccess
from airflow_provider_toloka.testing.timefmt import iso_utc

SKILL_FIELDS = {
    "name": str,
    "public_name": dict,
    "private_comment": str,
    "public_requester_description": dict,
    "hidden": bool,
    "deprecated": bool,
}
USER_SKILL_FIELDS = ("skill_id", "user_id", "value", "reason")


class Skills:
    """Skills and the skill levels of tolokers.

    :param access: the emulator's store.
    """

    def __init__(self, access: StoreAccess) -> None:
        self.access = access
        self.store = access.state.extended

    @staticmethod
    def _checked_skill(body: Any) -> dict[str, Any]:
        body = require_object(body)
        errors: dict[str, dict[str, str]] = {}
        refuse_unknown(body, (*SKILL_FIELDS, "skill_ttl_hours"), errors)
        check_required(body, ("name",), errors)
        check_types(body, SKILL_FIELDS, errors)
        check_number(body, "skill_ttl_hours", errors, 1, None)
        raise_if_any(errors)
        return body

    def create_skill(self, body: Any) -> dict[str, Any]:
        """POST /skills: 201 with the skill (``hidden`` true unless sent, ``global`` and ``training`` false)."""
        body = self._checked_skill(body)
        with self.access.transaction() as now:
            skill = {"hidden": True, "deprecated": False, **body, "id": self.store.next_id(), "owner": OWNER}
            skill.update(created=iso_utc(now), training=False, **{"global": False})
            self.store.skills[skill["id"]] = skill
            return skill

    def update_skill(self, skill_id: str, body: Any) -> dict[str, Any]:
        """PUT /skills/{id}: replace the editable fields."""
        body = self._checked_skill(body)
        with self.access.transaction():
            skill = self._skill(skill_id)
            for name in (*SKILL_FIELDS, "skill_ttl_hours"):
                skill.pop(name, None)
            skill.update({"hidden": True, "deprecated": False, **body})
            return skill

    def get_skill(self, skill_id: str) -> dict[str, Any]:
        """GET /skills/{id}."""
        with self.access.transaction():
            return self._skill(skill_id)

    def list_skills(self, query: ListQuery, name: str | None, is_global: str | None) -> tuple[list[Any], bool]:
        """GET /skills (filters ``name``, ``global``)."""
        with self.access.transaction():
            filters = {"name": name, "global": None if is_global is None else str(is_global.lower() == "true")}
            return page_objects(self.store.skills.values(), query, filters=filters, id_key=numeric_id)

    def _skill(self, skill_id: str) -> dict[str, Any]:
        skill = self.store.skills.get(skill_id)
        if skill is None:
            raise does_not_exist("Skill", skill_id)
        return skill

    def set_user_skill(self, body: Any) -> dict[str, Any]:
        """PUT /user-skills: set (or create) the level 0..100 of one skill of one toloker."""
        body = require_object(body)
        errors: dict[str, dict[str, str]] = {}
        refuse_unknown(body, USER_SKILL_FIELDS, errors)
        check_required(body, ("skill_id", "user_id", "value"), errors)
        check_number(body, "value", errors, 0, 100)
        check_types(body, {"user_id": str, "reason": str}, errors)
        raise_if_any(errors)
        skill_id, user_id, value = str(body["skill_id"]), body["user_id"], body["value"]
        with self.access.transaction() as now:
            if skill_id not in self.store.skills:
                raise validation_error(
                    {"skill_id": field_error("ENTITY_DOES_NOT_EXIST", f"Skill {skill_id} does not exist")}
                )
            found = next(
                (
                    item
                    for item in self.store.user_skills.values()
                    if item["skill_id"] == skill_id and item["user_id"] == user_id
                ),
                None,
            )
            if found is None:
                found = {"id": self.store.next_id(), "skill_id": skill_id, "user_id": user_id, "created": iso_utc(now)}
                self.store.user_skills[found["id"]] = found
            found.update(value=round(value), exact_value=value, modified=iso_utc(now))
            return found

    def get_user_skill(self, user_skill_id: str) -> dict[str, Any]:
        """GET /user-skills/{id}."""
        with self.access.transaction():
            return self._user_skill(user_skill_id)

    def delete_user_skill(self, user_skill_id: str) -> None:
        """DELETE /user-skills/{id}: the toloker loses the skill."""
        with self.access.transaction():
            self._user_skill(user_skill_id)
            del self.store.user_skills[user_skill_id]

    def list_user_skills(self, query: ListQuery, user_id: str | None, skill_id: str | None) -> tuple[list[Any], bool]:
        """GET /user-skills (filters ``user_id``, ``skill_id``)."""
        with self.access.transaction():
            filters = {"user_id": user_id, "skill_id": skill_id}
            return page_objects(self.store.user_skills.values(), query, filters=filters, id_key=numeric_id)

    def _user_skill(self, user_skill_id: str) -> dict[str, Any]:
        found = self.store.user_skills.get(user_skill_id)
        if found is None:
            raise does_not_exist("User skill", user_skill_id)
        return found
