"""Assignments over real HTTP: listing filters and sorts, review (accept/reject, 409), automatic acceptance, balance."""

from __future__ import annotations

import pytest
from crowd_helpers import all_assignments, open_pool, wait_closed, wait_for
from emulator_helpers import Api

from airflow_provider_toloka.testing import TolokaEmulator

FAST = {"simulate_tolokers": True, "toloker_speed": 200.0, "operation_delay": 0.0, "seed": 11}
MANUAL_REVIEW = {"auto_accept_solutions": False, "auto_accept_period_day": 1}


def _patch(api: Api, assignment_id: str, body: dict) -> tuple[int, dict]:
    response = api.session.patch(f"{api.base}/assignments/{assignment_id}", json=body, timeout=30)
    return response.status_code, response.json()


@pytest.mark.toloka_emulator(**FAST)
def test_listing_filters_and_sorts(api: Api) -> None:
    pool_id = open_pool(api, 30, overlap=2, **MANUAL_REVIEW)
    wait_closed(api, pool_id, 30)
    assignments = all_assignments(api, pool_id)
    assert {item["status"] for item in assignments} == {"SUBMITTED"}
    first, second = assignments[0], assignments[1]
    assert _patch(api, first["id"], {"status": "ACCEPTED"})[0] == 200
    assert _patch(api, second["id"], {"status": "REJECTED", "public_comment": "Wrong"})[0] == 200

    def ids(**params: object) -> list[str]:
        response = api.get("/assignments", params={"pool_id": pool_id, "limit": 1000, **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(status="ACCEPTED,REJECTED") == [first["id"], second["id"]]
    assert len(ids(status="SUBMITTED")) == len(assignments) - 2
    assert ids(user_id=first["user_id"]) == [item["id"] for item in assignments if item["user_id"] == first["user_id"]]
    task_id = first["tasks"][0]["id"]
    by_task = api.get("/assignments", params={"task_id": task_id}).json()["items"]
    assert len(by_task) == 2 and all(task_id in [task["id"] for task in item["tasks"]] for item in by_task)
    assert [
        item["id"] for item in api.get("/assignments", params={"task_suite_id": first["task_suite_id"]}).json()["items"]
    ] == [first["id"]]
    assert ids(sort="-id") == [item["id"] for item in reversed(assignments)]
    by_submitted = sorted(assignments, key=lambda item: (item["submitted"], item["id"]))
    assert ids(sort="submitted,id") == [item["id"] for item in by_submitted]
    middle = by_submitted[len(by_submitted) // 2]["submitted"]
    later = ids(submitted_gte=middle, sort="submitted")
    assert later and all(item["submitted"] >= middle for item in assignments if item["id"] in later)
    assert ids(accepted_gte="2000-01-01T00:00:00") == [first["id"]]
    page = api.get("/assignments", params={"pool_id": pool_id, "limit": 5}).json()
    assert len(page["items"]) == 5 and page["has_more"] is True
    rest = ids(id_gt=page["items"][-1]["id"])
    assert rest == [item["id"] for item in assignments[5:]]
    for params in ({}, {"pool_id": pool_id, "status": "DONE"}, {"pool_id": pool_id, "sort": "reward"}):
        response = api.get("/assignments", params=params)
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.toloka_emulator(**FAST, balance=100.0, fee_rate=0.5)
def test_review_rules_and_the_balance(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = open_pool(api, 9, overlap=1, **MANUAL_REVIEW)
    wait_closed(api, pool_id, 30)
    first, second, third = all_assignments(api, pool_id)
    assert api.get(f"/assignments/{first['id']}").json() == first
    assert set(first) >= {
        "id",
        "task_suite_id",
        "pool_id",
        "user_id",
        "status",
        "reward",
        "tasks",
        "solutions",
        "mixed",
        "automerged",
        "created",
        "submitted",
        "owner",
    }
    assert api.get("/requester").json()["balance"] == 100.0

    status, accepted = _patch(api, first["id"], {"status": "ACCEPTED", "public_comment": "Thanks"})
    assert status == 200 and accepted["status"] == "ACCEPTED" and accepted["public_comment"] == "Thanks"
    assert "accepted" in accepted
    status, again = _patch(api, first["id"], {"status": "ACCEPTED"})
    assert status == 409 and again["code"] == "INAPPROPRIATE_STATUS"
    assert _patch(api, first["id"], {"status": "REJECTED", "public_comment": "No"})[0] == 409

    status, refused = _patch(api, second["id"], {"status": "REJECTED"})
    assert status == 400 and "public_comment" in refused["payload"]
    assert _patch(api, second["id"], {"status": "REJECTED", "public_comment": "Wrong"})[1]["status"] == "REJECTED"
    assert _patch(api, second["id"], {"status": "ACCEPTED"})[1]["status"] == "ACCEPTED"  # a changed decision
    assert _patch(api, third["id"], {"status": "SKIPPED"})[0] == 400
    assert _patch(api, "0000000999--a00000000000000000000999", {"status": "ACCEPTED"})[0] == 404
    assert api.get("/assignments/nope").status_code == 404

    assert api.get("/requester").json()["balance"] == pytest.approx(100.0 - 2 * 0.02 * 1.5)
    seeded = toloka_emulator.state.add_assignment(pool_id, [first["tasks"][0]], status="ACTIVE")
    assert _patch(api, seeded["id"], {"status": "ACCEPTED"})[0] == 409


@pytest.mark.toloka_emulator(**FAST, auto_accept_day_seconds=0.5)
def test_unreviewed_work_is_accepted_after_the_review_period(api: Api) -> None:
    pool_id = open_pool(api, 6, overlap=1, **MANUAL_REVIEW)
    wait_closed(api, pool_id, 30)
    assert {item["status"] for item in all_assignments(api, pool_id)} == {"SUBMITTED"}
    wait_for(lambda: {item["status"] for item in all_assignments(api, pool_id)} == {"ACCEPTED"}, 10)
    for item in all_assignments(api, pool_id):
        assert item["accepted"] > item["submitted"]
    assert api.get("/requester").json()["balance"] == pytest.approx(10_000.0 - 2 * 0.02 * 1.3)
