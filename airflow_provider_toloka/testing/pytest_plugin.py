"""pytest fixtures that run the Toloka emulator for your own tests, as moto does for AWS.

Installed with the provider and loaded by pytest through the ``pytest11`` entry point (disable it
with ``-p no:toloka``). Fixtures:

- ``toloka_emulator``: a fresh running :class:`~airflow_provider_toloka.testing.TolokaEmulator`
  per test (``url``, ``api_url``, ``token``, ``state``, ``fault_counts``);
- ``toloka_emulator_session``: one emulator shared by the whole session;
- ``toloka_connection``: the ``toloka_default`` connection pointed at ``toloka_emulator`` through
  ``AIRFLOW_CONN_TOLOKA_DEFAULT`` for the test's duration; returns an :class:`EmulatorConnection`;
- ``toloka_emulator_options``: session-wide emulator options; override it in ``conftest.py``.

Per test, class or module (``pytestmark``), markers set the options of the fresh emulator and of
the connection; the closest marker wins per option::

    @pytest.mark.toloka_emulator(fail_rate=0.2, seed=3, operation_delay=0)
    @pytest.mark.toloka_connection(conn_id="toloka_default", backoff_base=0.01)
    def test_my_dag(toloka_connection): ...

The emulator options are the fields of ``EmulatorConfig`` (token, operation_delay, fail_rate,
rps, seed, quotas); the connection marker takes ``conn_id`` and connection extras
(``backoff_base``, ``max_attempts``, ``read_timeout``, ...). Importing this module loads neither
Airflow nor the emulator's server: both come with the first fixture that needs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_provider_toloka.testing.server import TolokaEmulator

#: The token of the plugin's emulators unless ``toloka_emulator_options`` or a marker says otherwise.
DEFAULT_TOKEN = "toloka-emulator-token"

#: The connection ``toloka_connection`` sets unless its marker names another.
DEFAULT_CONN_ID = "toloka_default"

EMULATOR_MARKER = "toloka_emulator"
CONNECTION_MARKER = "toloka_connection"


@dataclass(frozen=True)
class EmulatorConnection:
    """An Airflow connection pointed at an emulator.

    :param conn_id: the connection id, e.g. ``toloka_default``.
    :param url: the emulator's base URL (the connection's host).
    :param token: the connection's password.
    :param env_var: the environment variable that defines the connection.
    :param emulator: the emulator it points at.
    """

    conn_id: str
    url: str
    token: str
    env_var: str
    emulator: TolokaEmulator


def connection_json(url: str, token: str, **extra: Any) -> str:
    """The ``AIRFLOW_CONN_<ID>`` JSON form of a Toloka connection to ``url``.

    :param url: base URL of the API (the connection's host).
    :param token: the API key (the connection's password).
    :param extra: connection extras, e.g. ``backoff_base=0.01``.
    """
    return json.dumps({"conn_type": "toloka", "password": token, "host": url, "extra": extra})


def connection_env_var(conn_id: str) -> str:
    """The environment variable Airflow reads the connection ``conn_id`` from."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def point_connection_at(
    monkeypatch: pytest.MonkeyPatch, emulator: TolokaEmulator, conn_id: str = DEFAULT_CONN_ID, **extra: Any
) -> EmulatorConnection:
    """Define the connection ``conn_id`` as ``emulator`` until ``monkeypatch`` is undone.

    :param monkeypatch: pytest's monkeypatch of the current test.
    :param emulator: a started emulator.
    :param conn_id: the connection id to define.
    :param extra: connection extras.
    """
    token = emulator.token or DEFAULT_TOKEN
    env_var = connection_env_var(conn_id)
    monkeypatch.setenv(env_var, connection_json(emulator.url, token, **extra))
    return EmulatorConnection(conn_id=conn_id, url=emulator.url, token=token, env_var=env_var, emulator=emulator)


def marker_options(node: pytest.Item, name: str) -> dict[str, Any]:
    """The keyword arguments of every ``name`` marker on ``node``, the closest marker winning per key."""
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(name))):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{name} takes keyword arguments only, got {marker.args!r}")
        options.update(marker.kwargs)
    return options


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers."""
    config.addinivalue_line(
        "markers",
        f"{EMULATOR_MARKER}(**options): options of the toloka_emulator fixture's emulator "
        "(token, operation_delay, fail_rate, rps, seed, projects_per_minute, tasks_per_minute, quota_window)",
    )
    config.addinivalue_line(
        "markers",
        f"{CONNECTION_MARKER}(conn_id='{DEFAULT_CONN_ID}', **extra): the connection the toloka_connection "
        "fixture defines, and its extras (backoff_base, max_attempts, read_timeout, ...)",
    )


@pytest.fixture(scope="session")
def toloka_emulator_options() -> dict[str, Any]:
    """Options of every emulator the plugin starts; override this fixture (session scope) to change them."""
    return {"token": DEFAULT_TOKEN}


def _start(options: dict[str, Any]) -> TolokaEmulator:
    from airflow_provider_toloka.testing.server import TolokaEmulator

    return TolokaEmulator(**options).start()


@pytest.fixture
def toloka_emulator(
    request: pytest.FixtureRequest, toloka_emulator_options: dict[str, Any]
) -> Iterator[TolokaEmulator]:
    """A fresh emulator for this test, with ``toloka_emulator_options`` and the ``toloka_emulator`` marker's options."""
    emulator = _start({**toloka_emulator_options, **marker_options(request.node, EMULATOR_MARKER)})
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def toloka_emulator_session(toloka_emulator_options: dict[str, Any]) -> Iterator[TolokaEmulator]:
    """One emulator for the whole session, with ``toloka_emulator_options`` (markers do not apply)."""
    emulator = _start(dict(toloka_emulator_options))
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def toloka_connection(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, toloka_emulator: TolokaEmulator
) -> EmulatorConnection:
    """The ``toloka_default`` connection (or the ``toloka_connection`` marker's ``conn_id``) on ``toloka_emulator``."""
    options = marker_options(request.node, CONNECTION_MARKER)
    return point_connection_at(monkeypatch, toloka_emulator, **options)
