"""The requester's balance: accepted assignments are charged their reward plus the platform fee.

Cost of one assignment = ``reward * (1 + fee_rate)``, unrounded (the fee is not published in the
API reference, so it is the emulator's ``fee_rate`` option). Work in progress (ACTIVE and SUBMITTED
assignments of the simulated crowd) is reserved: a pool whose next task suite no longer fits in
the balance minus the reservations closes with NOT_ENOUGH_BALANCE.
"""

from __future__ import annotations

from typing import Any

#: Tolerance of the balance check, far below a cent (sums of float costs are not exact).
CENT_FRACTION = 1e-9


class Billing:
    """Charges and reservations against ``requester["balance"]`` (the GET /requester object).

    :param requester: the requester object; its ``balance`` is set to ``balance`` and kept up to date.
    :param balance: the starting balance in U.S. dollars.
    :param fee_rate: the platform fee as a fraction of the reward (0.3: 30 %).
    """

    def __init__(self, requester: dict[str, Any], balance: float, fee_rate: float) -> None:
        self.requester = requester
        self.fee_rate = fee_rate
        self.requester["balance"] = balance
        self.spent = 0.0
        self._reserved: dict[str, float] = {}

    @property
    def balance(self) -> float:
        """What is left."""
        return float(self.requester["balance"])

    def cost(self, reward: float) -> float:
        """What one accepted assignment with this reward costs."""
        return reward * (1.0 + self.fee_rate)

    def can_reserve(self, reward: float) -> bool:
        """Whether one more assignment fits in the balance beside the work already reserved."""
        return self.balance - sum(self._reserved.values()) >= self.cost(reward) - CENT_FRACTION

    def reserve(self, assignment_id: str, reward: float) -> None:
        """Hold the cost of an assignment in progress."""
        self._reserved[assignment_id] = self.cost(reward)

    def release(self, assignment_id: str) -> None:
        """Drop the reservation of a rejected or expired assignment."""
        self._reserved.pop(assignment_id, None)

    def charge(self, assignment_id: str, reward: float) -> None:
        """Charge an accepted assignment (its reservation, if any, ends)."""
        self._reserved.pop(assignment_id, None)
        cost = self.cost(reward)
        self.spent += cost
        self.requester["balance"] = self.balance - cost
