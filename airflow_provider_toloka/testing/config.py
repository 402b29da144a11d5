"""Options of the Toloka emulator, shared by the in-process server, the subprocess and the CLI."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any

#: Default host: the emulator only listens on loopback unless told otherwise.
DEFAULT_HOST = "127.0.0.1"


#: Command-line help of each option.
OPTION_HELP = {
    "token": "required token (default: any non-empty token)",
    "operation_delay": "seconds an async operation takes, PENDING -> RUNNING -> done",
    "fail_rate": "fraction of requests failing with 500, 503 or a dropped connection",
    "rps": "requests per second before 429 (0: unlimited)",
    "seed": "seed of the fault injection (default: random)",
    "projects_per_minute": "project creations per quota window",
    "projects_per_day": "project creations per day window (-1: unlimited)",
    "pools_per_minute": "pool creations per quota window",
    "pools_per_day": "pool creations per day window (-1: unlimited)",
    "tasks_per_minute": "tasks per quota window (sync and async requests)",
    "tasks_per_day": "tasks per day window (-1: unlimited)",
    "quota_window": "quota window in seconds (fixed window)",
    "day_window": "day quota window in seconds (fixed window)",
    "simulate_tolokers": "simulated tolokers answer the tasks of OPEN pools",
    "toloker_count": "number of simulated tolokers",
    "toloker_accuracy": "mean accuracy of the simulated tolokers (each gets its own around it)",
    "toloker_speed": "mean tasks a simulated toloker answers per second",
    "auto_accept_day_seconds": "seconds one day of a pool's auto_accept_period_day lasts (compressed time)",
    "balance": "the requester's starting balance in U.S. dollars",
    "fee_rate": "platform fee charged on top of the reward of each accepted assignment (0.3: 30 percent)",
}


@dataclass(frozen=True)
class EmulatorConfig:
    """Behaviour of one emulator instance.

    :param token: when set, the ``Authorization`` token must equal it (any non-empty token otherwise).
    :param operation_delay: seconds an asynchronous operation takes (PENDING -> RUNNING -> SUCCESS/FAIL).
    :param fail_rate: fraction of requests that fail (500, 503 or a dropped connection, split evenly).
    :param rps: requests allowed per second before 429 TOO_MANY_REQUESTS (300 as in the API; None or 0: unlimited).
    :param seed: seed of the fault injection random generator (None: not reproducible).
    :param projects_per_minute: project creations allowed per quota window.
    :param projects_per_day: project creations allowed per day window (-1: unlimited).
    :param pools_per_minute: pool creations allowed per quota window.
    :param pools_per_day: pool creations allowed per day window (-1: unlimited).
    :param tasks_per_minute: tasks (of accepted POST /tasks requests) allowed per quota window.
    :param tasks_per_day: tasks allowed per day window (-1: unlimited).
    :param quota_window: length of the quota window in seconds (60 as in the API; shorter in tests).
    :param day_window: length of the day quota window in seconds (86,400 as in the API).
    :param simulate_tolokers: simulated tolokers take task suites from OPEN pools and answer them (``crowd.py``).
    :param toloker_count: number of simulated tolokers.
    :param toloker_accuracy: their mean accuracy, in [0, 1]; each toloker gets its own around it.
    :param toloker_speed: tasks a simulated toloker answers per second, on average (> 0).
    :param auto_accept_day_seconds: length in seconds of one day of ``auto_accept_period_day``.
    :param balance: the requester's starting balance (GET /requester), charged for accepted assignments.
    :param fee_rate: platform fee as a fraction of the reward: an accepted assignment costs
        ``reward * (1 + fee_rate)``.
    """

    token: str | None = None
    operation_delay: float = 0.2
    fail_rate: float = 0.0
    rps: float | None = 300.0
    seed: int | None = None
    projects_per_minute: int = 20
    projects_per_day: int = 100
    pools_per_minute: int = 20
    pools_per_day: int = 100
    tasks_per_minute: int = 200_000
    tasks_per_day: int = 4_000_000
    quota_window: float = 60.0
    day_window: float = 86_400.0
    simulate_tolokers: bool = False
    toloker_count: int = 50
    toloker_accuracy: float = 0.8
    toloker_speed: float = 4.0
    auto_accept_day_seconds: float = 86_400.0
    balance: float = 10_000.0
    fee_rate: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be within [0, 1], got {self.fail_rate}")
        if self.operation_delay < 0:
            raise ValueError(f"operation_delay must be >= 0, got {self.operation_delay}")
        if self.rps is not None and self.rps < 0:
            raise ValueError(f"rps must be >= 0, got {self.rps}")
        if self.quota_window <= 0 or self.day_window <= 0:
            raise ValueError(f"quota windows must be > 0, got {self.quota_window} and {self.day_window}")
        if min(self.projects_per_minute, self.pools_per_minute, self.tasks_per_minute) < 0:
            raise ValueError("minute quotas must be >= 0")
        if self.toloker_count < 0 or not 0.0 <= self.toloker_accuracy <= 1.0:
            raise ValueError("toloker_count must be >= 0 and toloker_accuracy within [0, 1]")
        if self.toloker_speed <= 0 or self.auto_accept_day_seconds <= 0 or self.fee_rate < 0:
            raise ValueError("toloker_speed and auto_accept_day_seconds must be > 0, fee_rate >= 0")

    def cli_args(self) -> list[str]:
        """The command-line options that reproduce this configuration (non-default values only)."""
        args: list[str] = []
        defaults = EmulatorConfig()
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and value != getattr(defaults, item.name):
                flag = f"--{item.name.replace('_', '-')}"
                args += ([flag] if value else [f"--no-{flag[2:]}"]) if isinstance(value, bool) else [flag, str(value)]
        return args

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Add one ``--option`` per field to ``parser``."""
        defaults = EmulatorConfig()
        types: dict[str, Any] = {"token": str, "seed": int, "rps": float}
        for item in fields(EmulatorConfig):
            default = getattr(defaults, item.name)
            kind = types.get(item.name, type(default))
            typing: dict[str, Any] = {"action": argparse.BooleanOptionalAction} if kind is bool else {"type": kind}
            parser.add_argument(
                f"--{item.name.replace('_', '-')}",
                dest=item.name,
                default=default,
                **typing,
                help=OPTION_HELP[item.name] if default is None else f"{OPTION_HELP[item.name]} (default: {default})",
            )

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace) -> EmulatorConfig:
        """Build a configuration from parsed ``add_arguments`` options."""
        return cls(**{item.name: getattr(namespace, item.name) for item in fields(cls)})
