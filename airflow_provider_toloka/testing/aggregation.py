"""Server-side aggregation: a SOLUTION.AGGREGATE operation and its results, paged by task id.

``POST /aggregated-solutions/aggregate-by-pool`` starts it, ``GET /aggregated-solutions/{operation_id}``
reads its results.

The answers of SUBMITTED and ACCEPTED assignments are aggregated per task, the chosen ``fields``
together (all output fields when none are named). ``DAWID_SKENE``: the Dawid-Skene EM estimate
(a confusion matrix per toloker), confidence = the posterior of the chosen answer.
``WEIGHTED_DYNAMIC_OVERLAP``: each toloker's skill ``answer_weight_skill_id`` (0-100, from
``PUT /user-skills`` when the emulator has it; 50 otherwise) is the probability that the toloker is
right; confidence = the posterior of the chosen answer. Results are computed when the operation
finishes.
"""

from __future__ import annotations

import json
import math
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.testing.assignments import AssignmentBook
from airflow_provider_toloka.testing.errors import ApiError, does_not_exist, field_error, validation_error
from airflow_provider_toloka.testing.operations import Operation
from airflow_provider_toloka.testing.paging import parse_limit

if TYPE_CHECKING:
    from airflow_provider_toloka.testing.state import EmulatorState

SOLUTION_AGGREGATE = "SOLUTION.AGGREGATE"
DAWID_SKENE = "DAWID_SKENE"
WEIGHTED_DYNAMIC_OVERLAP = "WEIGHTED_DYNAMIC_OVERLAP"
#: Assignments whose answers are aggregated.
AGGREGATED_STATUSES = frozenset({"SUBMITTED", "ACCEPTED"})
#: Skill value (percent) of a toloker without the weighting skill.
DEFAULT_SKILL = 50.0
DS_ITERATIONS = 50
DS_TOLERANCE = 1e-6
DS_SMOOTHING = 0.01
DEFAULT_LIMIT = 50
MAX_LIMIT = 100_000

#: One answer: (task id, user id, answer key); keys are the answers serialized as sorted JSON.
Vote = tuple[str, str, str]
#: Per task: (answer key, confidence).
Decisions = dict[str, tuple[str, float]]


def _normalize(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exps = {label: math.exp(score - top) for label, score in scores.items()}
    total = sum(exps.values())
    return {label: value / total for label, value in exps.items()}


def _by_task(votes: Iterable[Vote]) -> dict[str, list[tuple[str, str]]]:
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for task_id, user_id, label in votes:
        grouped[task_id].append((user_id, label))
    return grouped


def _best(posterior: Mapping[str, float]) -> tuple[str, float]:
    label = max(sorted(posterior), key=lambda key: posterior[key])
    return label, posterior[label]


def weighted_vote(votes: Iterable[Vote], accuracy: Mapping[str, float]) -> Decisions:
    """Each toloker is right with their ``accuracy`` (0.5 when unknown); the answer with the highest posterior."""
    decisions: Decisions = {}
    for task_id, answers in _by_task(votes).items():
        labels = sorted({label for _, label in answers})
        wrong_share = max(len(labels) - 1, 1)
        scores = dict.fromkeys(labels, 0.0)
        for user_id, given in answers:
            right = min(0.99, max(0.01, accuracy.get(user_id, DEFAULT_SKILL / 100)))
            for label in labels:
                scores[label] += math.log(right if label == given else (1.0 - right) / wrong_share)
        decisions[task_id] = _best(_normalize(scores))
    return decisions


def dawid_skene(votes: Iterable[Vote]) -> Decisions:
    """The Dawid-Skene EM estimate, started from the majority vote."""
    tasks = _by_task(votes)
    labels = sorted({label for answers in tasks.values() for _, label in answers})
    posterior: dict[str, dict[str, float]] = {}
    for task_id, answers in tasks.items():
        counts = dict.fromkeys(labels, 0.0)
        for _, label in answers:
            counts[label] += 1.0
        posterior[task_id] = {label: count / len(answers) for label, count in counts.items()}
    for _ in range(DS_ITERATIONS):
        prior = {label: sum(p[label] for p in posterior.values()) / len(posterior) for label in labels}
        confusion: dict[str, dict[str, dict[str, float]]] = defaultdict(
            lambda: {true: dict.fromkeys(labels, DS_SMOOTHING) for true in labels}
        )
        for task_id, answers in tasks.items():
            for user_id, given in answers:
                matrix = confusion[user_id]
                for true in labels:
                    matrix[true][given] += posterior[task_id][true]
        for matrix in confusion.values():
            for row in matrix.values():
                total = sum(row.values())
                for given in row:
                    row[given] /= total
        change = 0.0
        for task_id, answers in tasks.items():
            scores = {
                true: math.log(max(prior[true], 1e-12))
                + sum(math.log(confusion[user_id][true][given]) for user_id, given in answers)
                for true in labels
            }
            updated = _normalize(scores)
            change = max(change, max(abs(updated[label] - posterior[task_id][label]) for label in labels))
            posterior[task_id] = updated
        if change < DS_TOLERANCE:
            break
    return {task_id: _best(p) for task_id, p in posterior.items()}


def _answer_key(output_values: Mapping[str, Any], fields: list[str]) -> str:
    return json.dumps({name: output_values.get(name) for name in fields}, sort_keys=True)


class Aggregations:
    """Aggregation operations and their results.

    :param state: the emulator's store (pools, projects, operations).
    :param book: the assignments to aggregate.
    """

    def __init__(self, state: EmulatorState, book: AssignmentBook) -> None:
        self.state = state
        self.book = book
        self._results: dict[str, list[dict[str, Any]]] = {}

    def start(self, body: Any) -> dict[str, Any]:
        """POST /aggregated-solutions/aggregate-by-pool: a SOLUTION.AGGREGATE operation (400 on a bad body)."""
        if not isinstance(body, dict):
            raise validation_error({"body": field_error("OBJECT_EXPECTED", "Send a JSON object")})
        algorithm = body.get("type")
        if algorithm not in (DAWID_SKENE, WEIGHTED_DYNAMIC_OVERLAP):
            raise validation_error(
                {"type": field_error("VALUE_NOT_ALLOWED", f"type must be {DAWID_SKENE} or {WEIGHTED_DYNAMIC_OVERLAP}")}
            )
        skill_id = body.get("answer_weight_skill_id")
        if algorithm == WEIGHTED_DYNAMIC_OVERLAP and skill_id in (None, ""):
            raise validation_error(
                {"answer_weight_skill_id": field_error("VALUE_REQUIRED", "Required for WEIGHTED_DYNAMIC_OVERLAP")}
            )
        if body.get("pool_id") in (None, ""):
            raise validation_error({"pool_id": field_error("VALUE_REQUIRED", "pool_id is required")})
        pool_id = str(body["pool_id"])
        with self.state._transaction() as now:
            pool = self.state.pools.get(pool_id)
            if pool is None:
                raise validation_error(
                    {"pool_id": field_error("ENTITY_DOES_NOT_EXIST", f"Pool {pool_id} does not exist")}
                )
            project = self.state.projects[str(pool["project_id"])]
            fields = self._fields(body, algorithm, project)
            parameters: dict[str, Any] = {
                "pool_id": pool_id,
                "algorithm": algorithm,
                "pool_name": pool.get("private_name", ""),
                "project_id": str(pool["project_id"]),
                "requester_id": self.state.requester["id"],
            }
            if algorithm == DAWID_SKENE:
                parameters.update(
                    input_fields=list((project.get("task_spec") or {}).get("input_spec") or {}),
                    missing_output_fields=[],
                    aggregated_output_fields=fields,
                )
            else:
                parameters.update(
                    aggregated_fields=[{"name": name} for name in fields], answer_weight_skill_id=skill_id
                )

            def aggregate(operation: Operation) -> None:
                self._results[operation.id] = self._aggregate(pool_id, algorithm, fields, str(skill_id))

            operation = Operation(
                str(uuid.uuid4()),
                SOLUTION_AGGREGATE,
                now,
                self.state.config.operation_delay,
                parameters,
                effect=aggregate,
            )
            return self.state._submit(operation, now)

    @staticmethod
    def _fields(body: Mapping[str, Any], algorithm: str, project: Mapping[str, Any]) -> list[str]:
        output_spec = (project.get("task_spec") or {}).get("output_spec") or {}
        requested = body.get("fields") or []
        if not isinstance(requested, list) or not all(isinstance(item, dict) for item in requested):
            raise validation_error({"fields": field_error("ARRAY_EXPECTED", "fields is an array of {name}")})
        if algorithm == DAWID_SKENE and len(requested) > 1:
            raise validation_error({"fields": field_error("VALUE_NOT_ALLOWED", "DAWID_SKENE takes at most one field")})
        names = [str(item.get("name")) for item in requested]
        unknown = [name for name in names if name not in output_spec]
        if unknown:
            raise validation_error(
                {"fields": field_error("VALUE_NOT_ALLOWED", f"Not output fields of the project: {', '.join(unknown)}")}
            )
        return names or list(output_spec)

    def _skills(self, skill_id: str) -> dict[str, float]:
        extended = getattr(self.state, "extended", None)
        user_skills = getattr(extended, "user_skills", None) or {}
        return {
            str(item["user_id"]): float(item.get("exact_value", item.get("value", DEFAULT_SKILL))) / 100
            for item in user_skills.values()
            if str(item.get("skill_id")) == skill_id
        }

    def _aggregate(self, pool_id: str, algorithm: str, fields: list[str], skill_id: str) -> list[dict[str, Any]]:
        votes: list[Vote] = []
        for assignment in self.book.of_pool(pool_id):
            if assignment["status"] not in AGGREGATED_STATUSES:
                continue
            for task, solution in zip(assignment["tasks"], assignment["solutions"], strict=False):
                votes.append(
                    (task["id"], assignment["user_id"], _answer_key(solution.get("output_values") or {}, fields))
                )
        decisions = dawid_skene(votes) if algorithm == DAWID_SKENE else weighted_vote(votes, self._skills(skill_id))
        return [
            {
                "pool_id": pool_id,
                "task_id": task_id,
                "confidence": round(confidence, 6),
                "output_values": json.loads(key),
            }
            for task_id, (key, confidence) in sorted(decisions.items())
        ]

    def page(self, operation_id: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], bool]:
        """GET /aggregated-solutions/{operation_id}: ``sort`` task_id/-task_id, ``task_id_gt|gte|lt|lte``, ``limit``.

        :raises ApiError: 404 for an unknown aggregation, 409 while it is still running, 400 on bad parameters.
        """
        with self.state._transaction():
            operation = self.state.operations.get(operation_id)
            if operation is None or operation.type != SOLUTION_AGGREGATE:
                raise does_not_exist("Aggregation operation", operation_id)
            results = self._results.get(operation_id)
            if results is None:
                raise ApiError(
                    409,
                    "INAPPROPRIATE_STATUS",
                    f"Aggregation {operation_id} has not finished; wait for its operation",
                    {"appropriate_statuses": ["SUCCESS"]},
                )
        sort = params.get("sort") or "task_id"
        if sort not in ("task_id", "-task_id"):
            raise validation_error({"sort": field_error("VALUE_NOT_ALLOWED", "sort must be task_id or -task_id")})
        limit = parse_limit(params, DEFAULT_LIMIT, MAX_LIMIT)
        ids = [item["task_id"] for item in results]
        low, high = 0, len(ids)
        if "task_id_gt" in params:
            low = max(low, bisect_right(ids, params["task_id_gt"]))
        if "task_id_gte" in params:
            low = max(low, bisect_left(ids, params["task_id_gte"]))
        if "task_id_lt" in params:
            high = min(high, bisect_left(ids, params["task_id_lt"]))
        if "task_id_lte" in params:
            high = min(high, bisect_right(ids, params["task_id_lte"]))
        selected = results[low:high] if high > low else []
        if sort.startswith("-"):
            selected = selected[::-1]
        return selected[:limit], len(selected) > limit
