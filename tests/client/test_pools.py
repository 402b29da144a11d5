"""judge_pool: what each pool status and close reason means for a wait (no I/O)."""

from __future__ import annotations

import pytest

from airflow_provider_toloka.client.errors import TolokaValidationError, is_permanent
from airflow_provider_toloka.client.pools import PoolState, TolokaPoolClosedError, done_reasons_of, judge_pool


@pytest.mark.parametrize(
    ("status", "reason", "active", "done_reasons", "verdict", "words"),
    [
        ("OPEN", None, False, ("COMPLETED",), "pending", "open"),
        ("OPEN", "MANUAL", False, ("COMPLETED",), "pending", "open"),  # reopened after a manual close
        ("CLOSED", None, False, ("COMPLETED",), "pending", "not been opened"),
        ("CLOSED", "FOR_UPDATE", False, ("COMPLETED",), "pending", "update"),
        ("CLOSED", "COMPLETED", True, ("COMPLETED",), "pending", "still ACTIVE"),
        ("CLOSED", "COMPLETED", False, ("COMPLETED",), "done", "COMPLETED"),
        ("ARCHIVED", "COMPLETED", False, ("COMPLETED",), "done", "COMPLETED"),
        ("CLOSED", "EXPIRED", False, ("COMPLETED",), "failed", "EXPIRED"),
        ("CLOSED", "EXPIRED", False, ("COMPLETED", "EXPIRED"), "done", "EXPIRED"),
        ("CLOSED", "MANUAL", False, ("COMPLETED",), "failed", "closed by hand"),
        ("CLOSED", "MANUAL", False, ("COMPLETED", "MANUAL"), "done", "MANUAL"),
        ("CLOSED", "NOT_ENOUGH_BALANCE", False, ("COMPLETED", "EXPIRED", "MANUAL"), "failed", "out of money"),
        ("CLOSED", "BLOCKED", False, ("COMPLETED",), "failed", "blocked"),
        ("CLOSED", "ASSIGNMENTS_LIMIT_EXCEEDED", False, ("COMPLETED",), "failed", "2 million"),
    ],
)
def test_verdicts(status, reason, active, done_reasons, verdict, words):
    got, why = judge_pool(PoolState("7", status, reason, active), done_reasons)
    assert got == verdict and words in why
    if verdict == "failed":
        assert f"Pool 7 was closed with reason {reason}" in why


def test_done_reasons_are_checked():
    assert done_reasons_of(None) == ("COMPLETED",)
    assert done_reasons_of("expired") == ("EXPIRED",)
    assert done_reasons_of(["COMPLETED", "MANUAL", "COMPLETED"]) == ("COMPLETED", "MANUAL")
    with pytest.raises(TolokaValidationError, match="NOT_ENOUGH_BALANCE"):
        done_reasons_of(["COMPLETED", "NOT_ENOUGH_BALANCE"])
    with pytest.raises(TolokaValidationError):
        done_reasons_of([])


def test_a_pool_closed_for_trouble_is_a_permanent_error():
    assert is_permanent(TolokaPoolClosedError("Pool 7 was closed with reason BLOCKED"))
