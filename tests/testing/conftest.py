"""Fixtures of the emulator tests: running emulators and HTTP helpers bound to them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_helpers import TOKEN, Api

from airflow_provider_toloka.testing import TolokaEmulator


@pytest.fixture
def emulator() -> Iterator[TolokaEmulator]:
    """An emulator with a token and a short operation delay."""
    with TolokaEmulator(token=TOKEN, operation_delay=0.3) as running:
        yield running


@pytest.fixture
def instant_emulator() -> Iterator[TolokaEmulator]:
    """An emulator whose operations finish at once."""
    with TolokaEmulator(token=TOKEN, operation_delay=0.0) as running:
        yield running


@pytest.fixture
def api(emulator: TolokaEmulator) -> Api:
    return Api(emulator.api_url)


@pytest.fixture
def instant_api(instant_emulator: TolokaEmulator) -> Api:
    return Api(instant_emulator.api_url)
