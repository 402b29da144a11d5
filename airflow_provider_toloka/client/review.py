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


def control_accuracy(assignment: dict[str, Any], fields: Sequence[str] | None = None) -> float | None:
    """Share of the assignment's control tasks answered as one of their known solutions (None: none there)."""
    checked = correct = 0
    for task, solution in zip(assignment.get("tasks") or [], assignment.get("solutions") or [], strict=False):
        if not is_control_task(task):
            continue
        known = {label_of(item.get("output_values") or {}, fields) for item in task["known_solutions"]}
        checked += 1
        correct += label_of((solution or {}).get("output_values") or {}, fields) in known
    return correct / checked if checked else None


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

    def accuracy(self, assignment: dict[str, Any]) -> float | None:
        """Share of the assignment's answers that match what at least ``min_agreement`` others answered.

        Tasks where the others agree on nothing that often are not counted; None when no task counts.
        """
        checked = agreed = 0
        for answer in answers_of([assignment], self.fields):
            others = Counter(self.votes.get(answer.task_id, ()))
            others[answer.label] -= 1  # the others: without this answer itself
            label, count = min(others.items(), key=lambda item: (-item[1], item[0]), default=(None, 0))
            if count >= self.min_agreement:
                checked += 1
                agreed += label == answer.label
        return agreed / checked if checked else None


def policy_verdict(
    policy: str | Callable[[dict[str, Any]], Any],
    assignment: dict[str, Any],
    *,
    min_accuracy: float = 0.8,
    agreement: AgreementIndex | None = None,
    fields: Sequence[str] | None = None,
) -> Verdict:
    """Apply a policy to one assignment.

    A callable gets the assignment and returns True (accept), False (reject), None (leave it), a
    ``(bool, comment)`` pair, or a :class:`Verdict`.
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
    if policy == "control_accuracy":
        return _by_threshold(control_accuracy(assignment, fields), min_accuracy)
    if policy == "majority":
        assert agreement is not None, "the majority policy needs the pool's answers"
        return _by_threshold(agreement.accuracy(assignment), min_accuracy)
    raise TolokaValidationError(f"Unknown review policy {policy!r}: use one of {', '.join(POLICIES)} or a callable")
