"""Fixtures of the emulator tests: HTTP helpers bound to the plugin's ``toloka_emulator``.

Options of the emulator (``operation_delay``, ...) are set per test or module with
``@pytest.mark.toloka_emulator(...)``.
"""

from __future__ import annotations

import pytest
from emulator_helpers import Api

from airflow_provider_toloka.testing import TolokaEmulator


@pytest.fixture
def api(toloka_emulator: TolokaEmulator) -> Api:
    """requests against this test's fresh emulator, authenticated with its token."""
    return Api(toloka_emulator.api_url)
