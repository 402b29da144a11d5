"""Answers that follow a project's ``output_spec``: a hidden true answer per task and tolokers' answers.

Every value is valid for its field (type, ``allowed_values``, ``min_value``/``max_value``,
``min_length``/``max_length``, arrays). A toloker gives the true value of a field with its accuracy
and otherwise a different valid value when the field has one.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_toloka.client.validation import normalize_type

Draw = Callable[[random.Random], Any]

#: Bounds of numbers when the spec gives none.
DEFAULT_INTEGER_RANGE = (0, 100)
DEFAULT_FLOAT_RANGE = (0.0, 1.0)
#: Length of free-text answers when the spec gives no bounds.
DEFAULT_TEXT_LENGTH = 8
#: Items of an array answer.
ARRAY_ITEMS = (1, 3)
#: Tries to draw a value different from the true one before giving up (tiny domains).
WRONG_TRIES = 8


def _text(field: Mapping[str, Any]) -> Draw:
    low = int(field.get("min_length") or 1)
    high = int(field.get("max_length") or max(low, DEFAULT_TEXT_LENGTH))
    low = min(low, high)

    def draw(rng: random.Random) -> str:
        return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(low, high)))

    return draw


def _scalar(type_name: str, field: Mapping[str, Any]) -> Draw:
    allowed = field.get("allowed_values")
    if allowed:
        choices = list(allowed)
        return lambda rng: rng.choice(choices)
    if type_name == "boolean":
        return lambda rng: rng.random() < 0.5
    if type_name == "integer":
        low = int(field.get("min_value", DEFAULT_INTEGER_RANGE[0]))
        high = int(field.get("max_value", max(low, DEFAULT_INTEGER_RANGE[1])))
        return lambda rng: rng.randint(low, high)
    if type_name == "float":
        low_f = float(field.get("min_value", DEFAULT_FLOAT_RANGE[0]))
        high_f = float(field.get("max_value", max(low_f, DEFAULT_FLOAT_RANGE[1])))
        return lambda rng: round(rng.uniform(low_f, high_f), 3)
    if type_name == "json":
        return lambda rng: {"value": rng.randint(*DEFAULT_INTEGER_RANGE)}
    if type_name == "coordinates":
        return lambda rng: f"{rng.uniform(-90, 90):.5f},{rng.uniform(-180, 180):.5f}"
    text = _text(field)
    if type_name == "url":
        return lambda rng: f"https://example.com/{text(rng)}"
    if type_name == "file":
        return lambda rng: f"attachment-{text(rng)}"
    return text


def _field_draw(field: Mapping[str, Any]) -> Draw:
    type_name = normalize_type(field.get("type")) or "string"
    if not type_name.startswith("array_"):
        return _scalar(type_name, field)
    item = _scalar(type_name[len("array_") :], field)
    return lambda rng: [item(rng) for _ in range(rng.randint(*ARRAY_ITEMS))]


class AnswerSpace:
    """Valid answers of one ``output_spec``.

    :param output_spec: the project's ``task_spec.output_spec``.
    """

    def __init__(self, output_spec: Mapping[str, Any]) -> None:
        self.fields: list[tuple[str, Draw]] = [
            (name, _field_draw(field)) for name, field in output_spec.items() if isinstance(field, Mapping)
        ]

    def truth(self, rng: random.Random, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A true answer: the ``known`` values (a control task's solution), the others drawn."""
        known = known or {}
        return {name: known[name] if name in known else draw(rng) for name, draw in self.fields}

    def answer(self, truth: Mapping[str, Any], accuracy: float, rng: random.Random) -> dict[str, Any]:
        """A toloker's answer: each field true with probability ``accuracy``, else a different valid value."""
        values: dict[str, Any] = {}
        for name, draw in self.fields:
            true_value = truth.get(name)
            if rng.random() < accuracy:
                values[name] = true_value
                continue
            value = draw(rng)
            for _ in range(WRONG_TRIES):
                if value != true_value:
                    break
                value = draw(rng)
            values[name] = value
        return values


class GroundTruth:
    """The hidden true answer of every task: a control task's ``known_solutions``, else drawn from the seed.

    :param seed: makes the drawn answers repeatable (per task id).
    :param projects: the emulator's projects by id.
    :param pools: the emulator's pools by id.
    """

    def __init__(
        self, seed: int, projects: Mapping[str, Mapping[str, Any]], pools: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.seed = seed
        self.projects = projects
        self.pools = pools
        self._spaces: dict[str, AnswerSpace] = {}
        self._truths: dict[str, dict[str, Any]] = {}

    def space(self, pool_id: str) -> AnswerSpace:
        """The answers of the pool's project (cached per project)."""
        project_id = str(self.pools[pool_id]["project_id"])
        space = self._spaces.get(project_id)
        if space is None:
            output_spec = (self.projects[project_id].get("task_spec") or {}).get("output_spec") or {}
            space = self._spaces[project_id] = AnswerSpace(output_spec)
        return space

    def of(self, task: Mapping[str, Any]) -> dict[str, Any]:
        """The task's true ``output_values``."""
        truth = self._truths.get(task["id"])
        if truth is None:
            known = known_answer(task)
            rng = random.Random(f"{self.seed}:{task['id']}")
            truth = self._truths[task["id"]] = self.space(str(task["pool_id"])).truth(rng, known)
        return truth


def known_answer(task: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``output_values`` of a control task's first known solution (None for other tasks)."""
    solutions = task.get("known_solutions")
    if isinstance(solutions, list) and solutions and isinstance(solutions[0], Mapping):
        values = solutions[0].get("output_values")
        return dict(values) if isinstance(values, Mapping) else None
    return None
