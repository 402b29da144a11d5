"""The simulated crowd over real HTTP: speed with the defaults, overlap, valid answers, seeds, ground truth."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import pytest
import requests
from crowd_helpers import LABELS, all_assignments, ground_truth, open_pool, wait_closed
from emulator_helpers import SHOES_PROJECT, Api

from airflow_provider_toloka.testing import TolokaEmulator

FAST = {"simulate_tolokers": True, "toloker_speed": 200.0, "operation_delay": 0.0, "seed": 5}


@pytest.mark.toloka_emulator(simulate_tolokers=True, seed=7)
def test_defaults_label_1000_tasks_at_overlap_3_within_a_minute(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    pool_id = open_pool(api, 1000, overlap=3)
    started = time.monotonic()
    pool = wait_closed(api, pool_id, timeout=60)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n1,000 tasks at overlap 3 with the default crowd: COMPLETED after {elapsed:.1f} s")

    assert pool["last_close_reason"] == "COMPLETED"
    assert elapsed < 60
    assignments = all_assignments(api, pool_id)
    answers_per_task: dict[str, list[str]] = defaultdict(list)
    for assignment in assignments:
        assert assignment["status"] == "ACCEPTED"  # auto_accept_solutions defaults to true
        assert len(assignment["tasks"]) == len(assignment["solutions"]) <= 3
        for task, solution in zip(assignment["tasks"], assignment["solutions"], strict=True):
            answers_per_task[task["id"]].append(assignment["user_id"])
            assert solution["output_values"]["result"] in LABELS
    assert len(answers_per_task) == 1000
    assert all(len(users) == 3 == len(set(users)) for users in answers_per_task.values())  # overlap, never twice
    tasks = api.get("/tasks", params={"pool_id": pool_id, "limit": 1000}).json()["items"]
    assert {task["remaining_overlap"] for task in tasks} == {0}


def _answers(emulator: TolokaEmulator, count: int) -> list[tuple[str, str, str]]:
    api = Api(emulator.api_url)
    pool_id = open_pool(api, count)
    wait_closed(api, pool_id, timeout=30)
    return sorted(
        (assignment["user_id"], task["input_values"]["image"], solution["output_values"]["result"])
        for assignment in all_assignments(api, pool_id)
        for task, solution in zip(assignment["tasks"], assignment["solutions"], strict=True)
    )


def test_the_same_seed_gives_the_same_answers() -> None:
    with TolokaEmulator(**FAST) as first, TolokaEmulator(**FAST) as second:
        once, again = _answers(first, 60), _answers(second, 60)
    with TolokaEmulator(**{**FAST, "seed": 6}) as other:
        different = _answers(other, 60)
    assert len(once) == 180
    assert once == again
    assert different != once


@pytest.mark.toloka_emulator(**FAST, toloker_accuracy=1.0)
def test_perfect_tolokers_answer_the_ground_truth_and_control_tasks_keep_their_answer(
    api: Api, toloka_emulator: TolokaEmulator
) -> None:
    controls = {0: "boots", 1: "other"}
    mixer = {"real_tasks_count": 4, "golden_tasks_count": 1, "training_tasks_count": 0}
    pool_id = open_pool(api, 42, controls=controls, mixer_config=mixer)
    assert wait_closed(api, pool_id, 30)["last_close_reason"] == "COMPLETED"
    truth = ground_truth(toloka_emulator.url, pool_id)
    tasks = {task["id"]: task for task in api.get("/tasks", params={"pool_id": pool_id, "limit": 100}).json()["items"]}
    assert set(truth) == set(tasks)
    for task_id, task in tasks.items():
        index = int(task["input_values"]["image"].split("/")[-1][:-4])
        assert truth[task_id]["result"] == controls.get(index, truth[task_id]["result"])
        assert truth[task_id]["result"] in LABELS
    sizes = Counter()
    for assignment in all_assignments(api, pool_id):
        sizes[len(assignment["tasks"])] += 1
        control_count = sum(1 for task in assignment["tasks"] if "known_solutions" in tasks[task["id"]])
        assert control_count == 1
        for task, solution in zip(assignment["tasks"], assignment["solutions"], strict=True):
            assert solution["output_values"] == truth[task["id"]]
    assert sizes.most_common(1)[0][0] == 5  # 4 general tasks + 1 control task per suite


@pytest.mark.toloka_emulator(**{**FAST, "toloker_accuracy": 0.0})
def test_tolokers_without_accuracy_never_answer_right(api: Api, toloka_emulator: TolokaEmulator) -> None:
    pool_id = open_pool(api, 30, overlap=2)
    wait_closed(api, pool_id, 30)
    truth = ground_truth(toloka_emulator.url, pool_id)
    for assignment in all_assignments(api, pool_id):
        for task, solution in zip(assignment["tasks"], assignment["solutions"], strict=True):
            assert solution["output_values"]["result"] != truth[task["id"]]["result"]


TYPED_PROJECT = {
    **SHOES_PROJECT,
    "task_spec": {
        **SHOES_PROJECT["task_spec"],
        "output_spec": {
            "count": {"type": "integer", "min_value": 3, "max_value": 7, "required": True},
            "score": {"type": "float", "min_value": -1.0, "max_value": 1.0},
            "ok": {"type": "boolean"},
            "note": {"type": "string", "min_length": 2, "max_length": 5},
            "tags": {"type": "array_string", "allowed_values": ["a", "b"]},
        },
    },
}


@pytest.mark.toloka_emulator(**FAST, toloker_accuracy=0.5)
def test_answers_follow_the_output_spec(api: Api) -> None:
    pool_id = open_pool(api, 20, overlap=2, project=TYPED_PROJECT, mixer_config=None)
    wait_closed(api, pool_id, 30)
    assignments = all_assignments(api, pool_id)
    assert {len(assignment["tasks"]) for assignment in assignments} <= set(range(1, 11))  # default suite: 10
    for assignment in assignments:
        for solution in assignment["solutions"]:
            values = solution["output_values"]
            assert isinstance(values["count"], int) and 3 <= values["count"] <= 7
            assert isinstance(values["score"], float) and -1.0 <= values["score"] <= 1.0
            assert isinstance(values["ok"], bool)
            assert isinstance(values["note"], str) and 2 <= len(values["note"]) <= 5
            assert values["tags"] and set(values["tags"]) <= {"a", "b"}


def test_ground_truth_needs_a_known_pool(toloka_emulator: TolokaEmulator) -> None:
    url = f"{toloka_emulator.url}/_emulator/ground-truth"
    assert requests.get(url, timeout=10).status_code == 400
    missing = requests.get(url, params={"pool_id": "404"}, timeout=10)
    assert missing.status_code == 404 and missing.json()["code"] == "DOES_NOT_EXIST"


def test_without_simulated_tolokers_an_open_pool_gets_no_assignments(api: Api) -> None:
    pool_id = open_pool(api, 5)
    time.sleep(0.5)
    assert all_assignments(api, pool_id) == []
    assert api.get(f"/pools/{pool_id}").json()["status"] == "OPEN"
