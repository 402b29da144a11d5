"""Aggregating tolokers' answers into one answer and a confidence per task, with no I/O.

Majority vote is built in; Dawid-Skene and the other categorical methods of crowd-kit are used
when the ``crowd-kit`` extra is installed. Control tasks (those with ``known_solutions``) are left out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_toloka.client.errors import TolokaConfigError, TolokaValidationError

#: crowd-kit's categorical aggregators by the names the operator accepts.
CROWDKIT_METHODS = {
    "dawid_skene": "DawidSkene",
    "one_coin_dawid_skene": "OneCoinDawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
    "wawa": "Wawa",
    "zero_based_skill": "ZeroBasedSkill",
    "kos": "KOS",
    "mmsr": "MMSR",
}


@dataclass(frozen=True)
class Answer:
    """One toloker's answer to one task.

    :param task_id: the task.
    :param worker: the toloker (``user_id``).
    :param label: the answer on the aggregated fields, as canonical JSON (hashable, comparable).
    """

    task_id: str
    worker: str
    label: str


@dataclass(frozen=True)
class Aggregate:
    """The aggregated answer of one task.

    :param output_values: the answer on the aggregated fields.
    :param confidence: the winning answer's share of votes (majority vote) or probability (crowd-kit,
        Toloka); None when the method gives none (crowd-kit's KOS and MMSR).
    :param answers: how many answers the task had (None when unknown: server-side aggregation).
    """

    output_values: dict[str, Any]
    confidence: float | None
    answers: int | None


def is_control_task(task: dict[str, Any]) -> bool:
    """True for a control (golden) or training task: it carries known solutions."""
    return bool(task.get("known_solutions"))


def label_of(output_values: dict[str, Any], fields: Sequence[str] | None) -> str:
    """The answer on ``fields`` (all fields when None) as canonical JSON."""
    chosen = output_values if fields is None else {name: output_values.get(name) for name in fields}
    return json.dumps(chosen, sort_keys=True, ensure_ascii=False)


def answers_of(assignments: Iterable[dict[str, Any]], fields: Sequence[str] | None = None) -> Iterator[Answer]:
    """Each answer of each assignment to a task that is not a control task."""
    for assignment in assignments:
        worker = str(assignment.get("user_id"))
        for task, solution in zip(assignment.get("tasks") or [], assignment.get("solutions") or [], strict=False):
            if is_control_task(task) or not isinstance(solution, dict):
                continue
            yield Answer(str(task.get("id")), worker, label_of(solution.get("output_values") or {}, fields))


class MajorityVote:
    """Counts votes per task; the answer with most votes wins, ties going to the smallest answer (stable).

    Memory grows with tasks times distinct answers, not with assignments.
    """

    def __init__(self) -> None:
        self.votes: dict[str, Counter[str]] = {}

    def add(self, answer: Answer) -> None:
        """Count one answer."""
        self.votes.setdefault(answer.task_id, Counter())[answer.label] += 1

    def winner(self, task_id: str) -> tuple[str, int, int] | None:
        """The winning label of a task, its votes and the task's total votes (None without votes)."""
        counts = self.votes.get(task_id)
        if not counts:
            return None
        label, top = min(counts.items(), key=lambda item: (-item[1], item[0]))
        return label, top, sum(counts.values())

    def results(self) -> dict[str, Aggregate]:
        """Every task's aggregate."""
        aggregates = {}
        for task_id in self.votes:
            label, top, total = self.winner(task_id)  # type: ignore[misc]
            aggregates[task_id] = Aggregate(json.loads(label), top / total, total)
        return aggregates


def majority_vote(answers: Iterable[Answer]) -> dict[str, Aggregate]:
    """Aggregate by majority vote: task id -> answer, share of votes, number of answers."""
    vote = MajorityVote()
    for answer in answers:
        vote.add(answer)
    return vote.results()


def crowdkit_aggregate(method: str, answers: Iterable[Answer]) -> dict[str, Aggregate]:
    """Aggregate with a crowd-kit method (``dawid_skene``, ``glad``, ``mace``, ...).

    Every answer is held in memory (a DataFrame), as these methods need all of them at once.

    :raises TolokaConfigError: crowd-kit is not installed.
    :raises TolokaValidationError: an unknown method.
    """
    class_name = CROWDKIT_METHODS.get(method)
    if class_name is None:
        known = ", ".join(["majority_vote", *CROWDKIT_METHODS])
        raise TolokaValidationError(f"Unknown aggregation method {method!r}: use one of {known}")
    try:
        import pandas as pd
        from crowdkit import aggregation
    except ImportError:
        raise TolokaConfigError(
            f"Aggregation method {method!r} needs crowd-kit: pip install 'airflow-provider-toloka[crowd-kit]' "
            "(or use method='majority_vote', or a server-side method such as 'toloka:DAWID_SKENE')"
        ) from None
    frame = pd.DataFrame(
        [(a.task_id, a.worker, a.label) for a in answers], columns=["task", "worker", "label"], dtype=object
    )
    if frame.empty:
        return {}
    counts = frame.groupby("task").size()
    aggregator = getattr(aggregation, class_name)()
    try:
        if hasattr(aggregator, "fit_predict_proba"):
            proba = aggregator.fit_predict_proba(frame)
            labels = proba.idxmax(axis=1)
            confidences = proba.max(axis=1)
        else:
            labels = aggregator.fit_predict(frame)
            confidences = None
    except Exception as exc:  # a crowd-kit that does not work with the installed pandas or scikit-learn
        raise TolokaConfigError(
            f"crowd-kit's {class_name} failed ({type(exc).__name__}: {str(exc)[:300]}); "
            "try another method, or versions of crowd-kit, pandas and scikit-learn that work together"
        ) from exc
    aggregates = {}
    for task, label in labels.items():
        confidence = float(confidences[task]) if confidences is not None else None
        aggregates[str(task)] = Aggregate(json.loads(label), confidence, int(counts[task]))
    return aggregates
