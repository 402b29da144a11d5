"""The crowd options on the command line: ``--simulate-tolokers`` and friends, through ``EmulatorProcess``."""

from __future__ import annotations

import pytest
from crowd_helpers import all_assignments, open_pool, wait_closed
from emulator_helpers import Api

from airflow_provider_toloka.testing import EmulatorConfig, EmulatorProcess
from airflow_provider_toloka.testing.emulator import build_parser


def test_crowd_options_round_trip_through_the_command_line() -> None:
    config = EmulatorConfig(simulate_tolokers=True, toloker_count=7, toloker_accuracy=0.9, balance=5.0, fee_rate=0.1)
    args = config.cli_args()
    assert "--simulate-tolokers" in args and "--toloker-count" in args
    assert EmulatorConfig.from_namespace(build_parser().parse_args(args)) == config
    assert EmulatorConfig.from_namespace(build_parser().parse_args([])).simulate_tolokers is False


def test_a_child_process_with_simulated_tolokers_completes_a_pool() -> None:
    options = {"simulate_tolokers": True, "toloker_count": 5, "toloker_speed": 100.0, "seed": 4, "fee_rate": 0.5}
    with EmulatorProcess(operation_delay=0.0, lifetime=60, **options) as process:
        api = Api(process.api_url)
        pool_id = open_pool(api, 10, overlap=2)
        assert wait_closed(api, pool_id, 30)["last_close_reason"] == "COMPLETED"
        assignments = all_assignments(api, pool_id)
        assert len({item["user_id"] for item in assignments}) <= 5
        balance = api.get("/requester").json()["balance"]
        assert balance == pytest.approx(10_000.0 - len(assignments) * 0.02 * 1.5)
