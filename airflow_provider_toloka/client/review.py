"""Review policies: which SUBMITTED assignments to accept and which to reject, with no I/O.

A policy looks at one assignment and answers a :class:`Verdict`: accept, reject (with a comment), or
leave it for a person. The accuracy policies compare the assignment's answers with the known
solutions of control tasks, or with what enough other tolokers agreed on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_toloka.client.aggregation import answers_of, is_control_task, label_of
from airflow_provider_toloka.client.errors import TolokaValidationError

#: The built-in policies by name.
POLICIES = ("accept_all", "control_accuracy", "majority")


@dataclass(frozen=True)
class Verdict:
    """What to do with one assignment.

    :param accept: True to accept, False to reject, None to leave it SUBMITTED.
    :param comment: the public comment for the toloker (None: the operator's default).
    :param accuracy: the share of correct answers the decision rests on, when there is one.
    """

    accept: bool | None
    comment: str | None = None
    accuracy: float | None = None


def _by_threshold(accuracy: float | None, min_accuracy: float) -> Verdict:
    if accuracy is None:
        return Verdict(True)  # nothing to check it against: the benefit of the doubt
    return Verdict(accuracy >= min_accuracy, accuracy=accuracy)


#: ``(answers checked, answers right)``.
Checks = tuple[int, int]


def share(checks: Checks) -> float | None:
    """The share of right answers (None when nothing was checked)."""
    checked, right = checks
    return right / checked if checked else None


def control_checks(assignment: dict[str, Any], fields: Sequence[str] | None = None) -> Checks:
    """The assignment's control tasks, and how many it answered as one of their known solutions."""
    checked = correct = 0
    for task, solution in zip(assignment.get("tasks") or [], assignment.get("solutions") or [], strict=False):
        if not is_control_task(task):
            continue
        known = {label_of(item.get("output_values") or {}, fields) for item in task["known_solutions"]}
        checked += 1
        correct += label_of((solution or {}).get("output_values") or {}, fields) in known
    return checked, correct


def control_accuracy(assignment: dict[str, Any], fields: Sequence[str] | None = None) -> float | None:
    """Share of the assignment's control tasks answered as one of their known solutions (None: none there)."""
    return share(control_checks(assignment, fields))


class AgreementIndex:
    """Answers per task from every toloker, to compare one toloker with the others.

    :param min_agreement: how many other tolokers must give the same answer for it to be the reference.
    """

    def __init__(self, min_agreement: int = 2, fields: Sequence[str] | None = None) -> None:
        if min_agreement < 1:
            raise TolokaValidationError(f"min_agreement must be at least 1, got {min_agreement}")
        self.min_agreement = min_agreement
        self.fields = fields
        self.votes: dict[str, Counter[str]] = {}

    def add_all(self, assignments: Iterable[dict[str, Any]]) -> AgreementIndex:
        """Count every answer of these assignments (control tasks left out)."""
        for answer in answers_of(assignments, self.fields):
            self.votes.setdefault(answer.task_id, Counter())[answer.label] += 1
        return self

    def checks(self, assignment: dict[str, Any]) -> Checks:
        """The answers compared (where at least ``min_agreement`` others agree) and how many match."""
        checked = agreed = 0
        for answer in answers_of([assignment], self.fields):
            others = Counter(self.votes.get(answer.task_id, ()))
            others[answer.label] -= 1  # the others: without this answer itself
            label, count = min(others.items(), key=lambda item: (-item[1], item[0]), default=(None, 0))
            if count >= self.min_agreement:
                checked += 1
                agreed += label == answer.label
        return checked, agreed

    def accuracy(self, assignment: dict[str, Any]) -> float | None:
        """Share of the assignment's answers that match what at least ``min_agreement`` others answered.

        Tasks where the others agree on nothing that often are not counted; None when no task counts.
        """
        return share(self.checks(assignment))


class AccuracyScorer:
    """The accuracy an accuracy policy judges an assignment by: its own, or its toloker's over the pool.

    :param policy: ``control_accuracy`` or ``majority``.
    :param fields: the output fields compared (None: all).
    :param min_agreement: for ``majority``, see :class:`AgreementIndex`.
    :param per_toloker: judge each assignment by its toloker's answers in the whole pool (fairer
        with small task suites) instead of by its own.
    """

    def __init__(
        self, policy: str, fields: Sequence[str] | None = None, min_agreement: int = 2, per_toloker: bool = False
    ) -> None:
        self.policy = policy
        self.fields = fields
        self.agreement = AgreementIndex(min_agreement, fields) if policy == "majority" else None
        self.per_toloker = per_toloker
        self.tolokers: dict[str, Checks] = {}

    def learn(self, pool_answers: Callable[[], Iterable[dict[str, Any]]]) -> AccuracyScorer:
        """Read what the judgement needs from the pool's answered assignments (streamed once or twice)."""
        if self.agreement is not None:
            self.agreement.add_all(pool_answers())
        if self.per_toloker:
            for assignment in pool_answers():
                user = str(assignment.get("user_id"))
                checked, right = self.tolokers.get(user, (0, 0))
                more_checked, more_right = self._checks(assignment)
                self.tolokers[user] = (checked + more_checked, right + more_right)
        return self

    def _checks(self, assignment: dict[str, Any]) -> Checks:
        if self.agreement is not None:
            return self.agreement.checks(assignment)
        return control_checks(assignment, self.fields)

    def accuracy(self, assignment: dict[str, Any]) -> float | None:
        """The share of right answers the assignment is judged by (None: nothing to judge by)."""
        if self.per_toloker:
            return share(self.tolokers.get(str(assignment.get("user_id")), (0, 0)))
        return share(self._checks(assignment))


def policy_verdict(
    policy: str | Callable[[dict[str, Any]], Any],
    assignment: dict[str, Any],
    *,
    min_accuracy: float = 0.8,
    scorer: AccuracyScorer | None = None,
) -> Verdict:
    """Apply a policy to one assignment.

    A callable gets the assignment and returns True (accept), False (reject), None (leave it), a
    ``(bool, comment)`` pair, or a :class:`Verdict`. The accuracy policies need ``scorer``.
    """
    if callable(policy):
        answer = policy(assignment)
        if isinstance(answer, Verdict):
            return answer
        if isinstance(answer, tuple):
            return Verdict(None if answer[0] is None else bool(answer[0]), str(answer[1]) if answer[1] else None)
        return Verdict(None if answer is None else bool(answer))
    if policy == "accept_all":
        return Verdict(True)
    if policy in ("control_accuracy", "majority"):
        assert scorer is not None and scorer.policy == policy, f"the {policy} policy needs its AccuracyScorer"
        return _by_threshold(scorer.accuracy(assignment), min_accuracy)
    raise TolokaValidationError(f"Unknown review policy {policy!r}: use one of {', '.join(POLICIES)} or a callable")
