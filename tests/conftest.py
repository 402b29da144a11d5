"""Shared fixtures: Airflow isolation, fast-retry clients, the quickstart objects.

The emulators come from the provider's pytest plugin (``airflow_provider_toloka.testing.pytest_plugin``,
loaded through its ``pytest11`` entry point): ``toloka_emulator``, ``toloka_emulator_session``,
``toloka_connection``. ``emulator``, ``toloka_conn`` and ``slow_toloka_conn`` are their older names,
kept as thin aliases.
"""

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

import pytest
from quickstart import SHOES_POOL, SHOES_PROJECT, TOKEN, UNLIMITED_QUOTAS

from airflow_provider_toloka.client.client import TolokaClient
from airflow_provider_toloka.client.config import ClientConfig, RetryPolicy
from airflow_provider_toloka.testing import TolokaEmulator
from airflow_provider_toloka.testing.pytest_plugin import point_connection_at

#: Connection extras of the tests: fast retries.
FAST_RETRY_EXTRA = {"backoff_base": 0.01}


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


@pytest.fixture(scope="session")
def airflow_home() -> str:
    """The isolated AIRFLOW_HOME that this test session uses."""
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(scope="session")
def token() -> str:
    """The token the shared emulator accepts."""
    return TOKEN


@pytest.fixture(scope="session")
def toloka_emulator_options() -> dict[str, Any]:
    """The plugin's emulators in these tests: token TOKEN, fast operations, quotas out of the way."""
    return {"token": TOKEN, "operation_delay": 0.05, **UNLIMITED_QUOTAS}


@pytest.fixture(scope="session")
def emulator(toloka_emulator_session: TolokaEmulator) -> TolokaEmulator:
    """The session emulator (older name of ``toloka_emulator_session``)."""
    return toloka_emulator_session


@pytest.fixture
def toloka_conn(monkeypatch: pytest.MonkeyPatch, toloka_emulator_session: TolokaEmulator) -> str:
    """``toloka_default`` on the session emulator, with fast retries, for this test; returns its URL."""
    return point_connection_at(monkeypatch, toloka_emulator_session, **FAST_RETRY_EXTRA).url


@pytest.fixture
def slow_toloka_conn(
    monkeypatch: pytest.MonkeyPatch,
    toloka_emulator_options: dict[str, Any],
    make_client: Callable[..., TolokaClient],
) -> Iterator[TolokaClient]:
    """``toloka_default`` on a fresh emulator whose operations take 30 s; yields a client of it.

    Equivalent to ``@pytest.mark.toloka_emulator(operation_delay=30)`` with ``toloka_connection``.
    """
    with TolokaEmulator(**{**toloka_emulator_options, "operation_delay": 30}) as slow:
        point_connection_at(monkeypatch, slow, **FAST_RETRY_EXTRA)
        yield make_client(slow.url)


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


@pytest.fixture
def memory_storage() -> Iterator[None]:
    """``memory://`` URLs for ObjectStoragePath (fsspec's in-memory file system), emptied afterwards."""
    import fsspec
    from airflow.sdk.io import attach

    memory = fsspec.filesystem("memory")
    attach("memory", fs=memory)
    yield
    memory.store.clear()
    memory.pseudo_dirs[:] = [""]
