"""Shared fixtures: Airflow isolation, a running Toloka emulator, fast-retry clients, the quickstart objects."""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

# Airflow reads these when it is first imported: set them before any test module imports it.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="toloka-provider-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

import pytest  # noqa: E402

# ``toloka_default`` pointed at an emulator, for the operator, sensor and trigger tests
from airflow_context import slow_toloka_conn, toloka_conn  # noqa: E402, F401

from airflow_provider_toloka.client.client import TolokaClient  # noqa: E402
from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy  # noqa: E402
from airflow_provider_toloka.testing import TolokaEmulator  # noqa: E402

#: The token of the shared emulator.
TOKEN = "tok-SECRET-5f3a9c1e"


def fast_retry(**overrides: Any) -> RetryPolicy:
    """A retry policy with tiny backoffs, for tests."""
    options: dict[str, Any] = {"backoff_base": 0.01, "backoff_max": 0.05, "max_total_seconds": 30.0}
    options.update(overrides)
    return RetryPolicy(**options)


def build_client(url: str, token: str = TOKEN, *, auth_scheme: str = "ApiKey", **retry: Any) -> TolokaClient:
    """A TolokaClient for ``url`` with fast retries and short timeouts."""
    config = ClientConfig(
        token=token,
        base_url=url,
        auth_scheme=auth_scheme,
        connect_timeout=2.0,
        read_timeout=10.0,
        retry=fast_retry(**retry),
    )
    return TolokaClient(config)


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
    "defaults": {"default_overlap_for_new_task_suites": 3},
}


@pytest.fixture(scope="session")
def airflow_home() -> str:
    """The isolated AIRFLOW_HOME that this test session uses."""
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(scope="session")
def token() -> str:
    """The token the shared emulator accepts."""
    return TOKEN


@pytest.fixture(scope="session")
def emulator() -> Iterator[TolokaEmulator]:
    """One emulator for the session: token TOKEN, fast operations, quotas out of the way."""
    with TolokaEmulator(token=TOKEN, operation_delay=0.05, projects_per_minute=100_000) as running:
        yield running


@pytest.fixture
def make_client() -> Iterator[Callable[..., TolokaClient]]:
    """``make_client(url, token=TOKEN, auth_scheme="ApiKey", **retry_overrides)``; clients are closed afterwards."""
    made: list[TolokaClient] = []

    def make(url: str, token: str = TOKEN, **options: Any) -> TolokaClient:
        made.append(build_client(url, token, **options))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(emulator: TolokaEmulator, make_client: Callable[..., TolokaClient]) -> TolokaClient:
    """A fast-retry client of the session emulator."""
    return make_client(emulator.url)


@pytest.fixture
def shoes_project() -> dict[str, Any]:
    """The quickstart's shoes project (a fresh copy)."""
    return copy.deepcopy(SHOES_PROJECT)


@pytest.fixture
def shoes_pool() -> Callable[[str], dict[str, Any]]:
    """``shoes_pool(project_id)``: the quickstart's pool for that project, expiring in 30 days."""

    def make(project_id: str) -> dict[str, Any]:
        will_expire = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
        return {**copy.deepcopy(SHOES_POOL), "project_id": project_id, "will_expire": will_expire}

    return make


@pytest.fixture
def pool_id(client: TolokaClient, shoes_project: dict[str, Any], shoes_pool: Callable[[str], dict[str, Any]]) -> str:
    """A new, empty shoes pool on the session emulator."""
    project = client.create_project(shoes_project)
    assert project.id
    pool = client.create_pool(shoes_pool(project.id))
    assert pool.id
    return pool.id
