"""What a pool costs: task suites, assignments, reward, platform fee and total, before and while it runs.

The formula (``k`` = general tasks per suite, ``mixer_config.real_tasks_count``; ``r`` = the
pool's ``reward_per_assignment``, or the highest reward of its ``dynamic_pricing_config``; ``f`` =
the fee rate; tasks grouped by overlap, ``n_o`` tasks with overlap ``o``)::

    task_suites     = sum over o of ceil(n_o / k)
    assignments     = sum over o of o * ceil(n_o / k)      (the estimate: an upper bound)
    min_assignments = ceil(sum over o of o * n_o / k)      (every suite full)
    reward = assignments * r;  fee = reward * f;  total = reward + fee

One accepted assignment (one task suite done by one toloker) is paid ``r`` plus the platform fee
``r * f``. ``total`` is what the budget guard compares with ``max_cost`` and the balance. What
was spent (:class:`Spend`, in the summaries of the pool sensor and the results operators) is the
same sum over the accepted assignments, each at its own reward, with the same ``fee_rate``.

Limits, so the estimate is read as what it is:

- Rounding: suites are filled in upload order, so each overlap group may end in one partial suite
  that is still paid in full; ``assignments - min_assignments`` (at most ``o - 1`` per overlap
  group) is that rounding. With random mixing a pool near its end may issue a few more partial
  suites to tolokers who have already seen the other tasks; keep a margin in ``max_cost``.
- Control (golden) and training tasks (tasks with ``known_solutions``) are not counted: they ride
  in the suites of the general tasks and add no assignment. Tasks with ``infinite_overlap`` have no
  bounded cost and are refused.
- Not included: bonuses, rejected work re-issued to other tolokers (a rejection gives the task's
  overlap back, so each rejection can cost one more assignment), overlap raised later, skills-based
  rewards above ``dynamic_pricing_config``, taxes and currency rounding of the real invoice.
- The platform fee is not in the API reference; ``fee_rate`` is a setting
  (:data:`DEFAULT_FEE_RATE` unless given): set it to your contract's rate.

Amounts are plain floats in the account's currency (U.S. dollars), unrounded; :meth:`CostEstimate.as_dict`
rounds to 6 decimals.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.client.errors import TolokaValidationError

if TYPE_CHECKING:
    from airflow_provider_toloka.client.client import TolokaClient

#: The platform fee as a fraction of the reward when none is set (0.3: 30 %); an assumption, not from
#: the API reference: set ``fee_rate`` (argument, or the connection extra ``fee_rate``) to your contract's rate.
DEFAULT_FEE_RATE = 0.3

#: Assignments that are issued and will be paid when accepted.
PENDING_STATUSES = ("ACTIVE", "SUBMITTED")


class TolokaBudgetError(TolokaValidationError):
    """Opening the pool would spend more than the limit or the balance allows; nothing was opened."""


def _as_dict(pool: Any) -> dict[str, Any]:
    to_api = getattr(pool, "to_api", None)
    return to_api() if callable(to_api) else dict(pool)


def fee_rate_of(value: Any) -> float:
    """A fee rate from an argument or a connection extra (``0.3``, ``"0.3"``); None gives the default.

    :raises TolokaValidationError: for a value that is not a number in [0, 10].
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_FEE_RATE
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise TolokaValidationError(f"fee_rate must be a number such as 0.3 (30 %), got {value!r}") from None
    if not 0.0 <= rate <= 10.0:
        raise TolokaValidationError(f"fee_rate must be a fraction of the reward within [0, 10], got {rate}")
    return rate


def money_of(value: Any, field_name: str) -> float | None:
    """An amount argument that may be templated (``"12.5"``) or left empty (None or ``""``).

    :raises TolokaValidationError: naming the field, for a value that is not a number >= 0.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = float(str(value).strip())
    except ValueError:
        raise TolokaValidationError(f"{field_name} must be an amount such as 25 or 12.50, got {value!r}") from None
    if amount < 0 or math.isnan(amount):
        raise TolokaValidationError(f"{field_name} must be at least 0, got {value!r}")
    return amount


@dataclass(frozen=True)
class PoolPricing:
    """What of a pool decides its cost.

    :param reward_per_assignment: paid per accepted task suite (the highest ``dynamic_pricing_config``
        reward when that is higher).
    :param tasks_per_suite: general tasks per suite (``mixer_config.real_tasks_count``; 1 without a mixer).
    :param default_overlap: overlap of tasks that set none (``defaults.default_overlap_for_new_tasks``,
        else ``default_overlap_for_new_task_suites``).
    """

    reward_per_assignment: float
    tasks_per_suite: int
    default_overlap: int | None

    @classmethod
    def of(cls, pool: Any, tasks_per_suite: int | None = None) -> PoolPricing:
        """The pricing of a pool (a :class:`Pool` or its dict).

        :param tasks_per_suite: overrides the suite size read from ``mixer_config``.
        :raises TolokaValidationError: without a usable ``reward_per_assignment`` or suite size.
        """
        body = _as_dict(pool)
        try:
            reward = float(body["reward_per_assignment"])
        except (KeyError, TypeError, ValueError):
            raise TolokaValidationError("The pool has no numeric reward_per_assignment to estimate its cost") from None
        intervals = (body.get("dynamic_pricing_config") or {}).get("intervals") or []
        rewards = [float(item["reward_per_assignment"]) for item in intervals if "reward_per_assignment" in item]
        size = tasks_per_suite or (body.get("mixer_config") or {}).get("real_tasks_count") or 1
        if int(size) < 1:
            raise TolokaValidationError(f"tasks per suite must be at least 1, got {size!r}")
        defaults = body.get("defaults") or {}
        overlap = defaults.get("default_overlap_for_new_tasks") or defaults.get("default_overlap_for_new_task_suites")
        return cls(max([reward, *rewards]), int(size), int(overlap) if overlap else None)


@dataclass
class OverlapTally:
    """Tasks counted by the overlap still to be paid for, streamed one task at a time.

    :param default_overlap: overlap of a task that sets none.
    :param remaining: count ``remaining_overlap`` (what an open pool still has to issue) where the
        task view has it, instead of the whole ``overlap``.
    """

    default_overlap: int | None = None
    remaining: bool = False
    by_overlap: Counter[int] = field(default_factory=Counter)
    control: int = 0

    def add(self, task: Mapping[str, Any]) -> None:
        """Count one task (a task dict, or bare input values, which take the default overlap).

        :raises TolokaValidationError: for a general task with ``infinite_overlap`` or no overlap at all.
        """
        if task.get("known_solutions"):
            self.control += 1
            return
        if task.get("infinite_overlap"):
            name = f"Task {task['id']}" if task.get("id") else "A task"
            raise TolokaValidationError(f"{name} has infinite_overlap: its cost has no bound")
        overlap = task.get("remaining_overlap") if self.remaining else None
        if overlap is None:
            overlap = task.get("overlap") if "input_values" in task else None
        if overlap is None:
            overlap = self.default_overlap
        if overlap is None:
            raise TolokaValidationError(
                "A task sets no overlap and the pool has no default overlap: give overlap= to the estimate"
            )
        if int(overlap) > 0:
            self.by_overlap[int(overlap)] += 1

    def add_all(self, tasks: Iterable[Mapping[str, Any]]) -> OverlapTally:
        """Count every task of ``tasks``; returns self."""
        for task in tasks:
            self.add(task)
        return self


class RewardAndFee:
    """The platform fee and the total of a reward: shared by what is estimated and what was spent.

    The class using it has ``reward`` (paid to tolokers) and ``fee_rate`` (the fee as a fraction of it).
    """

    if TYPE_CHECKING:

        @property
        def reward(self) -> float: ...

        fee_rate: float

    @property
    def fee(self) -> float:
        """The platform fee: ``reward * fee_rate``."""
        return self.reward * self.fee_rate

    @property
    def total(self) -> float:
        """``reward + fee``: what the balance goes down by."""
        return self.reward + self.fee


def reward_of(assignment: Mapping[str, Any], default: float) -> float:
    """What an assignment pays its toloker: its own ``reward``, else ``default`` (the pool's reward)."""
    value = assignment.get("reward")
    return float(value) if isinstance(value, (int, float)) else default


@dataclass(frozen=True)
class Spend(RewardAndFee):
    """What accepted assignments cost: their reward plus the platform fee (what the balance went down by).

    Bonuses are not counted. The fee comes from the ``fee_rate`` setting, as in the estimate.

    :param assignments: the accepted assignments counted.
    :param reward: their rewards (each assignment's own ``reward``, else the pool's).
    :param fee_rate: the platform fee as a fraction of the reward.
    :param complete: False when not every assignment was counted (the amounts are lower bounds).
    """

    assignments: int
    reward: float
    fee_rate: float
    complete: bool = True

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Spend:
        """The spend of an :meth:`as_dict` summary (e.g. from a trigger event)."""
        return cls(
            int(values.get("accepted_assignments") or 0),
            float(values.get("reward") or 0.0),
            fee_rate_of(values.get("fee_rate")),
            bool(values.get("complete", True)),
        )

    def describe(self) -> str:
        """One log line: the total, the reward, the fee and the accepted assignments."""
        more = "" if self.complete else " at least"
        return (
            f"spent{more} {self.total:.2f} = reward {self.reward:.2f} + fee {self.fee:.2f} "
            f"({self.fee_rate:.0%}) for {self.assignments} accepted assignment(s)"
        )

    def as_dict(self) -> dict[str, Any]:
        """A small JSON-ready summary (for XCom and trigger events); amounts rounded to 6 decimals."""
        return {
            "accepted_assignments": self.assignments,
            "reward": round(self.reward, 6),
            "fee_rate": self.fee_rate,
            "fee": round(self.fee, 6),
            "total": round(self.total, 6),
            "complete": self.complete,
        }


@dataclass(frozen=True)
class CostEstimate(RewardAndFee):
    """What a pool's tasks cost (see the module for the formula and its limits).

    :param tasks: general tasks counted (with overlap still to pay for, for a remaining estimate).
    :param control_tasks: control and training tasks, left out.
    :param task_suites: distinct task suites, filled in upload order.
    :param assignments: assignments to pay for (the upper bound of the formula), pending ones included.
    :param min_assignments: assignments if every suite were full (the rounding is the difference).
    :param pending_assignments: assignments issued and not reviewed yet (ACTIVE, SUBMITTED): paid when accepted.
    :param reward_per_assignment: the reward counted per assignment.
    :param fee_rate: the platform fee as a fraction of the reward.
    :param remaining: True when this is what an open (or reopened) pool still has to spend.
    :param pool_id: the pool, when it was read from the API.
    """

    tasks: int
    control_tasks: int
    task_suites: int
    assignments: int
    min_assignments: int
    pending_assignments: int
    reward_per_assignment: float
    fee_rate: float
    remaining: bool = False
    pool_id: str | None = None

    @property
    def reward(self) -> float:
        """Paid to tolokers: ``assignments * reward_per_assignment``."""
        return self.assignments * self.reward_per_assignment

    @property
    def min_total(self) -> float:
        """The total with every suite full: the least the same work costs."""
        return self.min_assignments * self.reward_per_assignment * (1.0 + self.fee_rate)

    def describe(self) -> str:
        """One log line: tasks, suites, assignments, reward, fee and total."""
        what = "still to spend" if self.remaining else "estimated cost"
        pool = f"pool {self.pool_id}: " if self.pool_id else ""
        pending = f" ({self.pending_assignments} issued, not reviewed)" if self.pending_assignments else ""
        return (
            f"{pool}{what} {self.total:.2f} = reward {self.reward:.2f} + fee {self.fee:.2f} "
            f"({self.fee_rate:.0%}) for {self.assignments} assignment(s){pending} x {self.reward_per_assignment:g}; "
            f"{self.tasks} task(s) in {self.task_suites} suite(s), {self.control_tasks} control task(s) not counted; "
            f"at least {self.min_total:.2f} if every suite is full"
        )

    def markdown(self, balance: float | None = None, max_cost: float | None = None) -> str:
        """The estimate as a Markdown table, for a person who approves the spend (e.g. an approval form)."""
        rows = [
            ("Total (reward + fee)", f"**{self.total:.2f}**"),
            ("Reward", f"{self.reward:.2f} = {self.assignments} assignment(s) x {self.reward_per_assignment:g}"),
            ("Platform fee", f"{self.fee:.2f} ({self.fee_rate:.0%} of the reward)"),
            ("Tasks", f"{self.tasks} in {self.task_suites} task suite(s); {self.control_tasks} control task(s)"),
            ("If every suite is full", f"{self.min_total:.2f} ({self.min_assignments} assignment(s))"),
        ]
        if self.pending_assignments:
            rows.append(("Issued, not reviewed yet", f"{self.pending_assignments} assignment(s), included"))
        if max_cost is not None:
            rows.append(("Limit (max_cost)", f"{max_cost:g}"))
        if balance is not None:
            rows.append(("Requester's balance", f"{balance:g}"))
        table = "\n".join(f"| {name} | {value} |" for name, value in rows)
        return (
            f"| | {'Still to spend' if self.remaining else 'Estimate'} |\n|---|---|\n{table}\n\n"
            "Not included: bonuses, rejected work issued again, overlap raised later."
        )

    def as_dict(self) -> dict[str, Any]:
        """A small JSON-ready summary (for XCom, logs and the approval form)."""
        return {
            "pool_id": self.pool_id,
            "remaining": self.remaining,
            "tasks": self.tasks,
            "control_tasks": self.control_tasks,
            "task_suites": self.task_suites,
            "assignments": self.assignments,
            "min_assignments": self.min_assignments,
            "pending_assignments": self.pending_assignments,
            "reward_per_assignment": self.reward_per_assignment,
            "fee_rate": self.fee_rate,
            "reward": round(self.reward, 6),
            "fee": round(self.fee, 6),
            "total": round(self.total, 6),
            "min_total": round(self.min_total, 6),
        }


def estimate_from_tally(
    pricing: PoolPricing,
    tally: OverlapTally,
    *,
    fee_rate: float | str | None = DEFAULT_FEE_RATE,
    pending_assignments: int = 0,
    pool_id: str | None = None,
) -> CostEstimate:
    """Apply the formula to tasks counted by overlap, plus assignments already issued."""
    size = pricing.tasks_per_suite
    suites = {overlap: math.ceil(count / size) for overlap, count in tally.by_overlap.items()}
    slots = sum(overlap * count for overlap, count in tally.by_overlap.items())
    return CostEstimate(
        tasks=sum(tally.by_overlap.values()),
        control_tasks=tally.control,
        task_suites=sum(suites.values()),
        assignments=sum(overlap * count for overlap, count in suites.items()) + pending_assignments,
        min_assignments=math.ceil(slots / size) + pending_assignments,
        pending_assignments=pending_assignments,
        reward_per_assignment=pricing.reward_per_assignment,
        fee_rate=fee_rate_of(fee_rate),
        remaining=tally.remaining,
        pool_id=pool_id,
    )


def estimate_cost(
    pool: Any,
    tasks: int | Iterable[Mapping[str, Any]],
    *,
    overlap: int | None = None,
    fee_rate: float | str | None = None,
    tasks_per_suite: int | None = None,
) -> CostEstimate:
    """The cost of ``tasks`` in a pool configured as ``pool``, before anything is uploaded or opened.

    :param pool: the pool config (dict or :class:`Pool`): reward, mixer_config, defaults.
    :param tasks: a number of general tasks, or the tasks themselves (task dicts or bare input values,
        streamed: a file reader works).
    :param overlap: overlap of the tasks that set none (default: the pool's defaults).
    :param fee_rate: the platform fee as a fraction of the reward (default :data:`DEFAULT_FEE_RATE`).
    :param tasks_per_suite: overrides ``mixer_config.real_tasks_count``.
    """
    pricing = PoolPricing.of(pool, tasks_per_suite)
    tally = OverlapTally(default_overlap=overlap or pricing.default_overlap)
    if isinstance(tasks, int):
        if tasks < 0:
            raise TolokaValidationError(f"The number of tasks must be at least 0, got {tasks}")
        if tasks and tally.default_overlap is None:
            raise TolokaValidationError("The pool has no default overlap: give overlap= to the estimate")
        if tasks:
            tally.by_overlap[int(tally.default_overlap or 1)] = tasks
    else:
        tally.add_all(tasks)
    return estimate_from_tally(pricing, tally, fee_rate=fee_rate_of(fee_rate))


def estimate_pool_cost(
    client: TolokaClient, pool_id: str, *, fee_rate: float | str | None = None, remaining: bool = True
) -> CostEstimate:
    """The cost of a pool's tasks as uploaded, read from the API (tasks streamed page by page).

    :param remaining: what is still to be spent (default): each task's ``remaining_overlap`` (its
        ``overlap`` where the view has none), plus the assignments issued and not reviewed yet
        (ACTIVE, SUBMITTED), which are paid when accepted. False: the whole pool, as if never opened.
    :param fee_rate: the platform fee as a fraction of the reward (default :data:`DEFAULT_FEE_RATE`).
    """
    pool = client.get_pool(pool_id)
    pricing = PoolPricing.of(pool)
    tally = OverlapTally(default_overlap=pricing.default_overlap, remaining=remaining).add_all(
        client.iter_tasks(pool_id)
    )
    pending = 0
    if remaining:
        pending = sum(sum(1 for _ in client.iter_assignments(pool_id, status=status)) for status in PENDING_STATUSES)
    return estimate_from_tally(
        pricing, tally, fee_rate=fee_rate_of(fee_rate), pending_assignments=pending, pool_id=pool_id
    )


def check_budget(estimate: CostEstimate, *, max_cost: float | None, balance: float | None) -> None:
    """Refuse a spend above ``max_cost`` or above the balance.

    :raises TolokaBudgetError: naming the estimate, the limit and the balance.
    """
    over = []
    if max_cost is not None and estimate.total > max_cost:
        over.append(f"over the limit max_cost={max_cost:g}")
    if balance is not None and estimate.total > balance:
        over.append(f"over the requester's balance {balance:g}")
    if over:
        limit = "none" if max_cost is None else f"{max_cost:g}"
        shown = "unknown" if balance is None else f"{balance:g}"
        raise TolokaBudgetError(
            f"Refused: {' and '.join(over)} "
            f"(estimate {estimate.total:.2f}, limit {limit}, balance {shown}); nothing was opened. "
            f"{estimate.describe()}"
        )
