"""Fault injection: 500, 503 and dropped connections, reproducible with a seed."""

from __future__ import annotations

from collections import Counter

import requests
from emulator_helpers import SHOES_PROJECT, TOKEN, Api
from quickstart import UNLIMITED_QUOTAS

from airflow_provider_toloka.testing import TolokaEmulator


def outcome(api: Api, path: str, **kwargs) -> str:
    try:
        response = api.post(path, **kwargs) if "json" in kwargs else api.get(path)
    except requests.ConnectionError:
        return "DROPPED"
    return str(response.status_code)


def run(fail_rate: float, seed: int, count: int) -> tuple[Counter[str], Counter[str]]:
    with TolokaEmulator(token=TOKEN, fail_rate=fail_rate, seed=seed) as emulator:
        api = Api(emulator.api_url)
        seen = Counter(outcome(api, "/requester") for _ in range(count))
        return seen, Counter(emulator.fault_counts)


def test_fault_counts_match_rate_and_seed() -> None:
    count, rate = 300, 0.3
    seen, injected = run(rate, seed=7, count=count)
    assert seen["200"] + seen["500"] + seen["503"] + seen["DROPPED"] == count
    failed = count - seen["200"]
    assert 0.2 * count <= failed <= 0.4 * count
    for kind in ("500", "503", "DROPPED"):
        assert count * rate / 3 * 0.5 <= seen[kind] <= count * rate / 3 * 1.5, seen
    assert injected == Counter(
        {
            "INTERNAL_ERROR": seen["500"],
            "REMOTE_SERVICE_UNAVAILABLE": seen["503"],
            "CONNECTION_DROPPED": seen["DROPPED"],
        }
    )
    again, _ = run(rate, seed=7, count=count)
    assert again == seen


def test_error_bodies_and_no_faults_without_rate() -> None:
    with TolokaEmulator(token=TOKEN, fail_rate=1.0, seed=3) as emulator:
        api = Api(emulator.api_url)
        codes = {}
        for _ in range(30):
            try:
                response = api.get("/requester")
            except requests.ConnectionError:
                continue
            codes[response.status_code] = response.json()["code"]
    assert codes == {500: "INTERNAL_ERROR", 503: "REMOTE_SERVICE_UNAVAILABLE"}
    seen, injected = run(0.0, seed=1, count=50)
    assert seen == Counter({"200": 50}) and not injected


def test_dropped_request_was_processed() -> None:
    with TolokaEmulator(token=TOKEN, fail_rate=1.0, seed=11, **UNLIMITED_QUOTAS) as emulator:
        api = Api(emulator.api_url)
        seen = Counter(outcome(api, "/projects", json=SHOES_PROJECT) for _ in range(30))
        assert seen["DROPPED"] > 0 and seen["500"] + seen["503"] > 0
        assert seen["201"] == 0
        # Only the dropped requests were processed: the client could not tell they took effect.
        assert len(emulator.state.projects) == seen["DROPPED"]


def test_an_outage_drops_api_requests_for_its_duration_and_keeps_the_state() -> None:
    import time

    with TolokaEmulator(token=TOKEN) as emulator:
        api = Api(emulator.api_url)
        project_id = api.post("/projects", json=SHOES_PROJECT).json()["id"]
        started = requests.post(f"{emulator.url}/_emulator/outage", params={"seconds": 1.0}, timeout=5)
        assert started.status_code == 200 and started.json() == {"outage_seconds": 1.0}
        assert outcome(api, f"/projects/{project_id}") == "DROPPED"
        time.sleep(1.1)
        assert api.get(f"/projects/{project_id}").json()["public_name"] == SHOES_PROJECT["public_name"]
        assert emulator.fault_counts["OUTAGE"] == 1
        emulator.outage(0.5)  # the same from Python
        assert outcome(api, "/requester") == "DROPPED"
