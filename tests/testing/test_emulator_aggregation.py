"""Server-side aggregation over real HTTP: aggregate-by-pool operations and their paged results."""

from __future__ import annotations

import pytest
from crowd_helpers import all_assignments, ground_truth, open_pool, wait_closed, wait_for
from emulator_helpers import Api

from airflow_provider_toloka.testing import TolokaEmulator

CROWD = {"simulate_tolokers": True, "toloker_speed": 500.0, "operation_delay": 0.2, "seed": 2, "toloker_accuracy": 0.7}


def _finished(api: Api, operation: dict) -> dict:
    found: dict = {}

    def done() -> bool:
        found.update(api.get(f"/operations/{operation['id']}").json())
        return found["status"] in ("SUCCESS", "FAIL")

    wait_for(done, 10)
    return found


def _results(api: Api, operation_id: str) -> list[dict]:
    results: list[dict] = []
    params: dict = {"limit": 70}
    while True:
        page = api.get(f"/aggregated-solutions/{operation_id}", params=params).json()
        results += page["items"]
        if not page["has_more"]:
            return results
        params["task_id_gt"] = page["items"][-1]["task_id"]


@pytest.mark.toloka_emulator(**CROWD)
def test_dawid_skene_beats_the_tolokers(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = open_pool(api, 200, overlap=5)
    wait_closed(api, pool_id, 30)
    truth = ground_truth(toloka_emulator.url, pool_id)
    answers = [
        solution["output_values"]["result"] == truth[task["id"]]["result"]
        for item in all_assignments(api, pool_id)
        for task, solution in zip(item["tasks"], item["solutions"], strict=True)
    ]
    toloker_accuracy = sum(answers) / len(answers)

    response = api.post(
        "/aggregated-solutions/aggregate-by-pool",
        json={"type": "DAWID_SKENE", "pool_id": pool_id, "fields": [{"name": "result"}]},
    )
    assert response.status_code == 201, response.text
    operation = response.json()
    assert operation["type"] == "SOLUTION.AGGREGATE" and operation["status"] in ("PENDING", "RUNNING")
    assert operation["parameters"]["aggregated_output_fields"] == ["result"]
    assert api.get(f"/aggregated-solutions/{operation['id']}").status_code == 409  # not finished yet
    assert _finished(api, operation)["status"] == "SUCCESS"

    results = _results(api, operation["id"])
    assert [item["task_id"] for item in results] == sorted(truth)
    assert all(0 < item["confidence"] <= 1 and item["pool_id"] == pool_id for item in results)
    aggregated = sum(item["output_values"]["result"] == truth[item["task_id"]]["result"] for item in results) / len(
        results
    )
    print(f"tolokers {toloker_accuracy:.3f}, Dawid-Skene {aggregated:.3f}")
    assert aggregated > toloker_accuracy + 0.1
    newest = api.get(f"/aggregated-solutions/{operation['id']}", params={"sort": "-task_id", "limit": 1}).json()
    assert newest["items"][0]["task_id"] == max(truth) and newest["has_more"] is True


@pytest.mark.toloka_emulator(**CROWD)
def test_weighted_dynamic_overlap_and_bad_requests(api: Api) -> None:
    pool_id = open_pool(api, 20, overlap=3)
    wait_closed(api, pool_id, 30)
    body = {"type": "WEIGHTED_DYNAMIC_OVERLAP", "pool_id": pool_id, "fields": [{"name": "result"}]}
    missing_skill = api.post("/aggregated-solutions/aggregate-by-pool", json=body)
    assert missing_skill.status_code == 400 and "answer_weight_skill_id" in missing_skill.json()["payload"]
    operation = api.create("/aggregated-solutions/aggregate-by-pool", {**body, "answer_weight_skill_id": "12648"})
    assert operation["parameters"]["aggregated_fields"] == [{"name": "result"}]
    assert _finished(api, operation)["status"] == "SUCCESS"
    assert len(_results(api, operation["id"])) == 20

    for bad in (
        {"type": "MAJORITY", "pool_id": pool_id},
        {"type": "DAWID_SKENE"},
        {"type": "DAWID_SKENE", "pool_id": pool_id, "fields": [{"name": "nope"}]},
        {"type": "DAWID_SKENE", "pool_id": "404"},
    ):
        response = api.post("/aggregated-solutions/aggregate-by-pool", json=bad)
        assert response.status_code == 400, bad
    assert api.get("/aggregated-solutions/00000000-0000-0000-0000-000000000000").status_code == 404
