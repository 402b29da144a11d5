"""POST /api/staging/analytics-2: an ANALYTICS operation whose details carry the pool's metrics."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import Api
from extra_helpers import filled_pool, finish

from airflow_provider_toloka.testing import TolokaEmulator

pytestmark = pytest.mark.toloka_emulator(operation_delay=0.2)


def analytics(api: Api, body: object) -> requests.Response:
    return api.session.post(api.base.removesuffix("/v1") + "/staging/analytics-2", json=body, timeout=30)


def metrics(api: Api, pool_id: str, *names: str) -> dict[str, object]:
    started = analytics(api, [{"subject": "POOL", "subject_id": pool_id, "name": name} for name in names])
    assert started.status_code == 202, started.text
    assert started.json()["type"] == "ANALYTICS"
    done = finish(api, started.json())
    assert done["status"] == "SUCCESS"
    assert [line["request"]["name"] for line in done["details"]["value"]] == list(names)
    return {line["request"]["name"]: line["result"]["value"] for line in done["details"]["value"]}


def test_progress_of_an_untouched_pool(api: Api) -> None:
    pool_id, _ = filled_pool(api, count=3)
    started = analytics(api, [{"subject": "POOL", "subject_id": pool_id, "name": "completion_percentage"}])
    assert started.json()["parameters"] == {
        "value": [{"subject": "POOL", "subject_id": pool_id, "name": "completion_percentage"}]
    }
    done = finish(api, started.json())
    line = done["details"]["value"][0]
    assert line["result"] == {"type": "NORMAL", "value": 0, "infinite": False, "approximate": False}
    assert metrics(api, pool_id, "real_tasks_count", "submitted_assignments_count") == {
        "real_tasks_count": 3,
        "submitted_assignments_count": 0,
    }


def test_progress_follows_the_assignments(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id, tasks = filled_pool(api, count=2, reward_per_assignment=0.05)  # overlap 2: 4 answers wanted
    state = toloka_emulator.state
    state.add_assignment(pool_id, [tasks[0]], status="ACCEPTED", user_id="a")
    state.add_assignment(pool_id, [tasks[0]], status="SUBMITTED", user_id="b")
    state.add_assignment(pool_id, [tasks[0]], status="SUBMITTED", user_id="c")  # beyond the overlap
    state.add_assignment(pool_id, [tasks[1]], status="REJECTED", user_id="a")
    state.add_assignment(pool_id, [tasks[1]], status="SKIPPED", user_id="d")
    values = metrics(
        api,
        pool_id,
        "completion_percentage",
        "submitted_assignments_count",
        "approved_assignments_count",
        "rejected_assignments_count",
        "skipped_assignments_count",
        "spent_budget",
        "unique_workers_count",
        "unique_submitters_count",
    )
    assert values == {
        "completion_percentage": 50,
        "submitted_assignments_count": 2,
        "approved_assignments_count": 1,
        "rejected_assignments_count": 1,
        "skipped_assignments_count": 1,
        "spent_budget": 0.05,
        "unique_workers_count": 4,
        "unique_submitters_count": 3,
    }


def test_invalid_requests_are_refused(api: Api) -> None:
    pool_id, _ = filled_pool(api, count=1)
    unknown = analytics(api, [{"subject": "POOL", "subject_id": pool_id, "name": "happiness"}])
    assert unknown.status_code == 400 and unknown.json()["payload"]["[0].name"]["code"] == "UNKNOWN_ENUM_VALUE"
    missing = analytics(api, [{"subject": "POOL", "subject_id": "999999", "name": "real_tasks_count"}])
    assert missing.status_code == 400
    assert missing.json()["payload"]["[0].subject_id"]["code"] == "ENTITY_DOES_NOT_EXIST"
    hours = analytics(api, [{"subject": "POOL", "subject_id": pool_id, "name": "active_workers_by_filter_count"}])
    assert hours.json()["payload"]["[0].interval_hours"]["code"] == "VALUE_REQUIRED"
    many = [{"subject": "POOL", "subject_id": pool_id, "name": "real_tasks_count"}] * 11
    assert analytics(api, many).json()["payload"][""]["code"] == "ARRAY_SIZE_GREATER_THAN_MAX"
    assert analytics(api, {"name": "real_tasks_count"}).status_code == 400


def test_analytics_needs_authentication(api: Api) -> None:
    url = api.base.removesuffix("/v1") + "/staging/analytics-2"
    refused = requests.post(url, json=[], timeout=30)
    assert refused.status_code == 401 and refused.json()["code"] == "AUTHENTICATION_ERROR"
