"""Skills, Toloker skills, trainings (exam pools) and attachments."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, task
from extra_helpers import finish, send

from airflow_provider_toloka.testing import TolokaEmulator

pytestmark = pytest.mark.toloka_emulator(operation_delay=0.2)


def test_skills_create_get_list(api: Api) -> None:
    created = api.create("/skills", {"name": "shoes", "public_name": {"EN": "Shoes"}})
    assert created["hidden"] is True and created["global"] is False and created["owner"]["myself"] is True
    assert api.get(f"/skills/{created['id']}").json() == created
    api.create("/skills", {"name": "boots"})
    assert [skill["name"] for skill in api.get("/skills", params={"name": "shoes"}).json()["items"]] == ["shoes"]
    assert len(api.get("/skills").json()["items"]) == 2
    invalid = api.post("/skills", json={"name": 5, "colour": "red"})
    assert invalid.status_code == 400
    assert invalid.json()["payload"]["name"]["code"] == "STRING_EXPECTED"
    assert invalid.json()["payload"]["colour"]["code"] == "VALUE_NOT_ALLOWED"
    assert api.get("/skills/999999").json()["code"] == "DOES_NOT_EXIST"


def test_user_skills_upsert_list_delete(api: Api) -> None:
    skill_id = api.create("/skills", {"name": "shoes"})["id"]
    first = send(api, "PUT", "/user-skills", {"skill_id": skill_id, "user_id": "toloker-1", "value": 80.4})
    assert first.status_code == 200, first.text
    assert first.json()["value"] == 80 and first.json()["exact_value"] == 80.4
    second = send(api, "PUT", "/user-skills", {"skill_id": skill_id, "user_id": "toloker-1", "value": 90})
    assert second.json()["id"] == first.json()["id"] and second.json()["value"] == 90
    listed = api.get("/user-skills", params={"user_id": "toloker-1"}).json()["items"]
    assert [item["id"] for item in listed] == [first.json()["id"]]

    over = send(api, "PUT", "/user-skills", {"skill_id": skill_id, "user_id": "toloker-1", "value": 101})
    assert over.json()["payload"]["value"]["code"] == "VALUE_GREATER_THAN_MAX"
    no_skill = send(api, "PUT", "/user-skills", {"skill_id": "999999", "user_id": "t", "value": 1})
    assert no_skill.json()["payload"]["skill_id"]["code"] == "ENTITY_DOES_NOT_EXIST"

    user_skill_url = f"/user-skills/{first.json()['id']}"
    assert api.get(user_skill_url).status_code == 200
    assert send(api, "DELETE", user_skill_url).status_code == 204
    assert api.get(user_skill_url).status_code == 404


def test_training_lifecycle(api: Api) -> None:
    project_id = api.project()
    body = {
        "project_id": project_id,
        "private_name": "Exam",
        "inherited_instructions": True,
        "training_tasks_in_task_suite_count": 3,
        "assignment_max_duration_seconds": 600,
    }
    training = api.create("/trainings", body)
    assert training["status"] == "CLOSED" and training["project_id"] == project_id
    assert api.get(f"/trainings/{training['id']}").json() == training
    assert [item["id"] for item in api.get("/trainings", params={"project_id": project_id}).json()["items"]] == [
        training["id"]
    ]
    assert api.post("/trainings/" + training["id"] + "/open").json()["code"] == "EMPTY_POOL"
    missing = api.post("/trainings", json={"project_id": project_id})
    assert missing.status_code == 400 and missing.json()["payload"]["private_name"]["code"] == "VALUE_REQUIRED"

    edited = send(api, "PUT", f"/trainings/{training['id']}", {**body, "private_name": "Exam 2"})
    assert edited.status_code == 200 and edited.json()["private_name"] == "Exam 2"
    archiving = api.post(f"/trainings/{training['id']}/archive")
    assert archiving.status_code == 202 and archiving.json()["type"] == "TRAINING.ARCHIVE"
    finish(api, archiving.json())
    assert api.get(f"/trainings/{training['id']}").json()["status"] == "ARCHIVED"
    assert api.post(f"/trainings/{training['id']}/close").status_code == 204


def test_training_opens_with_tasks(api: Api, toloka_emulator: TolokaEmulator) -> None:
    project_id = api.project()
    training = api.create(
        "/trainings",
        {
            "project_id": project_id,
            "private_name": "Exam",
            "inherited_instructions": True,
            "training_tasks_in_task_suite_count": 1,
        },
    )
    toloka_emulator.state.tasks.add([{**task(training["id"]), "overlap": 1}])  # seeded: POST /tasks knows pools only
    opening = api.post(f"/trainings/{training['id']}/open")
    assert opening.status_code == 202 and opening.json()["type"] == "TRAINING.OPEN"
    finish(api, opening.json())
    assert api.get(f"/trainings/{training['id']}").json()["status"] == "OPEN"
    closing = api.post(f"/trainings/{training['id']}/close")
    assert closing.json()["type"] == "TRAINING.CLOSE"
    finish(api, closing.json())
    assert api.get(f"/trainings/{training['id']}").json()["last_close_reason"] == "MANUAL"


def test_attachments_seeded_from_python(api: Api, toloka_emulator: TolokaEmulator) -> None:
    assert api.get("/attachments").json() == {"items": [], "has_more": False}
    extended = toloka_emulator.state.extended
    photo = extended.add_attachment("7", "assignment-1", "shoe.jpg", b"\xff\xd8jpeg", "image/jpeg")
    extended.add_attachment("8", "assignment-2", "other.txt", b"text", "text/plain")
    listed = api.get("/attachments", params={"pool_id": "7"}).json()["items"]
    assert listed == [photo]
    assert api.get(f"/attachments/{photo['id']}").json()["details"]["assignment_id"] == "assignment-1"
    download = api.get(f"/attachments/{photo['id']}/download")
    assert download.status_code == 200 and download.content == b"\xff\xd8jpeg"
    assert download.headers["content-type"] == "image/jpeg"
    assert api.get("/attachments/no-such-file/download").json()["code"] == "DOES_NOT_EXIST"
