"""The objects every test shares: the token of the tests' emulators and the quickstart's shoes project and pool."""

from __future__ import annotations

from typing import Any

#: The token of the tests' emulators (distinctive, so tests can check that it never leaks into logs).
TOKEN = "tok-SECRET-5f3a9c1e"

#: Emulator options lifting the creation quotas (20 projects and pools a minute, 100 a day, as in the API)
#: for emulators that many tests share; the quotas themselves are tested with emulators of their own.
UNLIMITED_QUOTAS: dict[str, int] = {
    "projects_per_minute": 100_000,
    "projects_per_day": -1,
    "pools_per_minute": 100_000,
    "pools_per_day": -1,
    "tasks_per_day": -1,
}

#: The tasks of the example DAG toloka_shoes_quickstart, the whole labeling loop.
QUICKSTART_TASK_IDS = (
    "prepare_tasks",
    "create_project",
    "create_pool",
    "upload_tasks",
    "wait_for_upload",
    "open_pool",
    "wait_for_labels",
    "accept_answers",
    "results_file",
    "aggregate",
)

SHOES_PROJECT: dict[str, Any] = {
    "public_name": "Categories of shoes",
    "public_description": "Look at the picture and determine the category of shoes",
    "public_instructions": "In this task you will see images of different shoes. You need to determine their category.",
    "task_spec": {
        "input_spec": {"image": {"type": "url", "required": True, "hidden": False}},
        "output_spec": {
            "result": {
                "type": "string",
                "required": True,
                "hidden": False,
                "allowed_values": ["boots", "sneakers", "other", "failed to load"],
            }
        },
        "view_spec": {
            "lock": {"core": "1.7.0", "view.list": "1.0.5", "view.image": "1.2.0", "plugin.toloka": "1.1.8"},
            "type": "tb",
            "config": '{"view": {"type": "view.list", "items": []}}',
            "settings": {"showSkip": True, "showTimer": True, "showSubmit": True},
        },
    },
    "assignments_issuing_type": "AUTOMATED",
}

SHOES_POOL: dict[str, Any] = {
    "private_name": "Shoes pool 1",
    "may_contain_adult_content": True,
    "reward_per_assignment": 0.02,
    "assignment_max_duration_seconds": 60,
    "filter": {"and": [{"or": [{"category": "profile", "key": "languages", "operator": "IN", "value": "RU"}]}]},
    "quality_control": {
        "captcha_frequency": "LOW",
        "configs": [
            {
                "collector_config": {"type": "CAPTCHA", "parameters": {"history_size": 10}},
                "rules": [
                    {
                        "conditions": [
                            {"key": "stored_results_count", "operator": "EQ", "value": 10},
                            {"key": "success_rate", "operator": "LTE", "value": 70.0},
                        ],
                        "action": {
                            "type": "RESTRICTION_V2",
                            "parameters": {"scope": "PROJECT", "duration_unit": "DAYS", "duration": 3},
                        },
                    }
                ],
            }
        ],
    },
    "mixer_config": {"real_tasks_count": 3, "golden_tasks_count": 0, "training_tasks_count": 0},
    "defaults": {"default_overlap_for_new_task_suites": 3, "default_overlap_for_new_tasks": 3},
}
