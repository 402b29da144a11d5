"""Operators for a pool's results: review, export, aggregate, close. XCom carries paths and counts, never rows.

Result files are written through Airflow's ObjectStoragePath when ``output_path`` is a URL
(``s3://``, ``gs://``, ``file://``, ...), else to a local path; the format follows the extension
(.jsonl, .csv, .parquet with pyarrow). When a task's ``outlets`` hold an Asset, its asset event
carries the pool id, the counts and the path as ``extra``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_toloka.operators.toloka import TolokaBaseOperator
from airflow_provider_toloka.utils.mixins import fail_fast
from airflow_provider_toloka.utils.params import object_id

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_toloka.client.aggregation import Aggregate
    from airflow_provider_toloka.client.cost import Spend
    from airflow_provider_toloka.client.models import Pool, Project

#: The statuses whose answers count by default: everything submitted that was not rejected.
ANSWERED_STATUSES = ("SUBMITTED", "ACCEPTED")

#: Assignment columns of an exported row (before the task's).
ASSIGNMENT_FIELDS = ("assignment_id", "task_suite_id", "user_id", "status", "reward", "created", "submitted")
ASSIGNMENT_DATES = ("accepted", "rejected")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _statuses(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class TolokaResultsOperator(TolokaBaseOperator):
    """What the results operators share: the pool, its project, and the Asset event.

    :param pool_id: the pool (templated, or ``create_pool.output``).
    """

    ui_color = "#b8e0d2"

    def __init__(self, *, pool_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_id = pool_id

    def linked_pool(self, context: Context) -> tuple[str, Pool]:
        """The pool id and the pool; the task's link points at the pool."""
        pool_id = object_id(self.pool_id, "pool_id")
        pool = self.hook.client.get_pool(pool_id)
        self.link_to(context, project_id=pool.project_id, pool_id=pool_id)
        return pool_id, pool

    def pool_and_project(self, context: Context) -> tuple[str, Pool, Project]:
        """The pool id, the pool and its project (for the output fields); the task's link points at the pool."""
        pool_id, pool = self.linked_pool(context)
        return pool_id, pool, self.hook.client.get_project(pool.project_id)

    def spend(self, assignments: int, reward: float) -> Spend:
        """What accepted assignments with this much reward cost: the fee at the connection extra ``fee_rate``."""
        from airflow_provider_toloka.client.cost import Spend

        return Spend(assignments, reward, self.hook.fee_rate)

    def finish(self, context: Context, result: dict[str, Any], spend: Spend | None = None) -> dict[str, Any]:
        """Log the result (and what was spent, in one line), put it on the outlets' asset events, return it.

        :param spend: what the accepted assignments cost; the result carries it as ``spent``.
        """
        from airflow_provider_toloka.utils.outputs import record_asset_extra

        if spend is not None:
            result["spent"] = spend.as_dict()
        self.log.info("%s", result)
        if spend is not None:
            self.log.info("Pool %s: %s", result.get("pool_id"), spend.describe())
        record_asset_extra(self.outlets, context, result)
        return result


class TolokaReviewAssignmentsOperator(TolokaResultsOperator):
    """Accepts or rejects a pool's SUBMITTED assignments by a policy; returns the counts and what was spent.

    ``spent`` is what the assignments this task accepted cost (``accepted_assignments``,
    ``reward``, ``fee_rate``, ``fee``, ``total``): their rewards plus the platform fee at the
    connection extra ``fee_rate``, as in the cost estimate; the task log states it in one line.

    Safe under retries: an assignment reviewed already (by an earlier try or by a person) counts
    as done, and the majority is computed from every submitted, accepted and rejected answer, so a
    retry decides as the first try did.

    :param pool_id: the pool (templated).
    :param policy: ``accept_all``; ``control_accuracy`` (reject when the share of control tasks
        answered correctly is below ``min_accuracy``); ``majority`` (reject when the share of answers
        agreeing with what at least ``min_agreement`` other tolokers answered is below
        ``min_accuracy``); or a callable taking the assignment and returning True (accept), False
        (reject), None (leave it), a ``(bool, comment)`` pair or a ``Verdict``. Assignments with
        nothing to compare are accepted.
    :param min_accuracy: the share of correct answers below which an assignment is rejected.
    :param min_agreement: how many other tolokers must agree for their answer to be the reference.
    :param per_toloker: judge each assignment by its toloker's accuracy over the whole pool (all
        their submitted, accepted and rejected assignments) rather than by its own few answers.
    :param fields: the output fields compared (default: all).
    :param accept_comment: the public comment on accepted assignments (templated; optional).
    :param reject_comment: the public comment on rejected assignments (templated).
    """

    template_fields: Sequence[str] = ("pool_id", "accept_comment", "reject_comment", "toloka_conn_id")

    def __init__(
        self,
        *,
        pool_id: str,
        policy: str | Callable[[dict[str, Any]], Any] = "accept_all",
        min_accuracy: float = 0.8,
        min_agreement: int = 2,
        per_toloker: bool = False,
        fields: Sequence[str] | None = None,
        accept_comment: str | None = None,
        reject_comment: str = "Too many answers differ from the correct ones",
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_id=pool_id, **kwargs)
        self.policy = policy
        self.min_accuracy = min_accuracy
        self.min_agreement = min_agreement
        self.per_toloker = per_toloker
        self.fields = fields
        self.accept_comment = accept_comment
        self.reject_comment = reject_comment

    @fail_fast
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_toloka.client.cost import reward_of
        from airflow_provider_toloka.client.errors import TolokaValidationError
        from airflow_provider_toloka.client.review import POLICIES, AccuracyScorer, policy_verdict

        client = self.hook.client
        if not callable(self.policy) and self.policy not in POLICIES:
            raise TolokaValidationError(f"Unknown review policy {self.policy!r}: use one of {', '.join(POLICIES)}")
        pool_id = object_id(self.pool_id, "pool_id")
        pool_reward = client.get_pool(pool_id).reward_per_assignment
        accepted_reward = 0.0
        scorer = None
        if self.policy in ("control_accuracy", "majority"):
            scorer = AccuracyScorer(str(self.policy), self.fields, self.min_agreement, self.per_toloker)
            scorer.learn(lambda: client.iter_assignments(pool_id, ["SUBMITTED", "ACCEPTED", "REJECTED"]))
        counts = {"accepted": 0, "rejected": 0, "already_reviewed": 0, "left": 0}
        for assignment in client.iter_assignments(pool_id, "SUBMITTED"):
            verdict = policy_verdict(self.policy, assignment, min_accuracy=self.min_accuracy, scorer=scorer)
            if verdict.accept is None:
                counts["left"] += 1
                continue
            default = self.accept_comment if verdict.accept else self.reject_comment
            review = client.review_assignment(assignment["id"], verdict.accept, verdict.comment or default)
            if not review.changed:
                counts["already_reviewed"] += 1
            elif review.status == "ACCEPTED":
                counts["accepted"] += 1
                accepted_reward += reward_of(assignment, pool_reward)
            else:
                counts["rejected"] += 1
        return self.finish(context, {"pool_id": pool_id, **counts}, self.spend(counts["accepted"], accepted_reward))


class TolokaGetAssignmentsOperator(TolokaResultsOperator):
    """Streams a pool's assignments page by page into a file; returns its path and the counts.

    One row per task of each assignment: the assignment's fields (``assignment_id``, ``user_id``,
    ``status``, ``submitted``, ...), ``task_id``, ``control`` (a control task), ``input_values`` and
    ``output_values`` (nested in .jsonl; dotted columns such as ``output_values.result`` in .csv
    and .parquet). Memory stays constant whatever the number of assignments. When ACCEPTED
    assignments are exported, the result's ``spent`` is what they cost (reward plus the fee at the
    connection extra ``fee_rate``), also stated in the task log.

    :param pool_id: the pool (templated).
    :param output_path: a .jsonl, .csv or .parquet path or URL (templated).
    :param status: the statuses to export, e.g. ``["ACCEPTED"]`` (templated; default: all).
    :param page_size: assignments read per request.
    """

    template_fields: Sequence[str] = ("pool_id", "output_path", "status", "toloka_conn_id")

    def __init__(
        self,
        *,
        pool_id: str,
        output_path: str,
        status: str | Sequence[str] | None = None,
        page_size: int = 10_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_id=pool_id, **kwargs)
        self.output_path = output_path
        self.status = status
        self.page_size = page_size

    @fail_fast
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_toloka.client.cost import reward_of
        from airflow_provider_toloka.client.results import status_filter
        from airflow_provider_toloka.client.writers import RowWriter
        from airflow_provider_toloka.utils.outputs import output_file

        path = output_file(self.output_path)
        statuses = status_filter(_statuses(self.status) or None)
        pool_id, pool, project = self.pool_and_project(context)
        columns = [
            *ASSIGNMENT_FIELDS,
            *ASSIGNMENT_DATES,
            "task_id",
            "control",
            *(f"input_values.{name}" for name in project.task_spec.input_spec),
            *(f"output_values.{name}" for name in project.task_spec.output_spec),
        ]
        by_status: dict[str, int] = {}
        accepted_reward = 0.0
        assignments = self.hook.client.iter_assignments(pool_id, statuses, self.page_size)

        def rows() -> Iterator[dict[str, Any]]:
            for number, assignment in enumerate(assignments, start=1):
                status = str(assignment.get("status"))
                by_status[status] = by_status.get(status, 0) + 1
                if status == "ACCEPTED":
                    nonlocal accepted_reward
                    accepted_reward += reward_of(assignment, pool.reward_per_assignment)
                if number % 100_000 == 0:
                    self.log.info("Exported %s assignments so far", number)
                yield from _assignment_rows(assignment)

        with RowWriter(path, columns) as writer:
            writer.write_all(rows())
        result = {
            "pool_id": pool_id,
            "path": str(path),
            "assignments": sum(by_status.values()),
            "rows": writer.rows,
            "by_status": by_status,
        }
        accepted = by_status.get("ACCEPTED", 0)
        return self.finish(context, result, self.spend(accepted, accepted_reward) if accepted else None)


def _assignment_rows(assignment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per task of the assignment, with its answer."""
    head = {name: assignment.get(name) for name in ASSIGNMENT_FIELDS if name != "assignment_id"}
    head = {"assignment_id": assignment.get("id"), **head}
    head.update({name: assignment[name] for name in ASSIGNMENT_DATES if name in assignment})
    solutions = assignment.get("solutions") or []
    for index, task in enumerate(assignment.get("tasks") or []):
        solution = solutions[index] if index < len(solutions) else {}
        yield {
            **head,
            "task_id": task.get("id"),
            "control": bool(task.get("known_solutions")),
            "input_values": task.get("input_values") or {},
            "output_values": (solution or {}).get("output_values") or {},
        }


class TolokaAggregateOperator(TolokaResultsOperator):
    """One answer and a confidence per task, with the task's input values, written to a file.

    Methods: ``majority_vote`` (built in; confidence = the winning answer's share of votes);
    crowd-kit's ``dawid_skene``, ``one_coin_dawid_skene``, ``glad``, ``mace``, ``wawa``,
    ``zero_based_skill``, ``kos``, ``mmsr`` (install the ``crowd-kit`` extra; confidence = the
    answer's probability); or Toloka's server-side ``toloka:DAWID_SKENE`` and
    ``toloka:WEIGHTED_DYNAMIC_OVERLAP`` (``answer_weight_skill_id`` needed). Control tasks are
    left out. Rows: ``task_id``, ``input_values``, ``output_values``, ``confidence``, ``answers``
    (how many answers the task had; None for server-side methods); a task with no answer has empty
    output values and a confidence of None.

    :param pool_id: the pool (templated).
    :param output_path: a .jsonl, .csv or .parquet path or URL (templated).
    :param method: the aggregation method (templated).
    :param fields: the output fields to aggregate (default: all of the project's; one for DAWID_SKENE).
    :param status: the assignments whose answers count (default: SUBMITTED and ACCEPTED).
    :param answer_weight_skill_id: the skill of ``toloka:WEIGHTED_DYNAMIC_OVERLAP``.
    :param timeout: seconds to wait for a server-side aggregation.
    """

    template_fields: Sequence[str] = ("pool_id", "output_path", "method", "status", "toloka_conn_id")

    def __init__(
        self,
        *,
        pool_id: str,
        output_path: str,
        method: str = "majority_vote",
        fields: Sequence[str] | None = None,
        status: str | Sequence[str] = ANSWERED_STATUSES,
        answer_weight_skill_id: str | None = None,
        timeout: float = 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_id=pool_id, **kwargs)
        self.output_path = output_path
        self.method = method
        self.fields = fields
        self.status = status
        self.answer_weight_skill_id = answer_weight_skill_id
        self.timeout = timeout

    @fail_fast
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_toloka.client.aggregation import is_control_task
        from airflow_provider_toloka.client.errors import TolokaValidationError
        from airflow_provider_toloka.client.writers import RowWriter
        from airflow_provider_toloka.utils.outputs import output_file

        path = output_file(self.output_path)
        method = str(self.method).strip()
        pool_id, _, project = self.pool_and_project(context)
        fields = list(self.fields or project.task_spec.output_spec)
        unknown = [name for name in fields if name not in project.task_spec.output_spec]
        if unknown:
            raise TolokaValidationError(
                f"fields {unknown} are not output fields of the pool's project: {list(project.task_spec.output_spec)}"
            )
        aggregates = self.aggregate(pool_id, method, fields)
        columns = [
            "task_id",
            *(f"input_values.{name}" for name in project.task_spec.input_spec),
            *(f"output_values.{name}" for name in fields),
            "confidence",
            "answers",
        ]
        counts = {"tasks": 0, "answered": 0, "unanswered": 0}
        empty = dict.fromkeys(fields)
        with RowWriter(path, columns) as writer:
            for task in self.hook.client.iter_tasks(pool_id):
                if is_control_task(task):
                    continue
                aggregate = aggregates.get(str(task["id"]))
                counts["tasks"] += 1
                counts["answered" if aggregate else "unanswered"] += 1
                writer.write(
                    {
                        "task_id": task["id"],
                        "input_values": task.get("input_values") or {},
                        "output_values": aggregate.output_values if aggregate else empty,
                        "confidence": aggregate.confidence if aggregate else None,
                        "answers": aggregate.answers if aggregate else 0,
                    }
                )
        if counts["unanswered"]:
            self.log.warning("%s task(s) of pool %s have no answer to aggregate", counts["unanswered"], pool_id)
        return self.finish(context, {"pool_id": pool_id, "path": str(path), "method": method, **counts})

    def aggregate(self, pool_id: str, method: str, fields: list[str]) -> dict[str, Aggregate]:
        """Task id -> aggregate, by the chosen method."""
        from airflow_provider_toloka.client.aggregation import answers_of, crowdkit_aggregate, majority_vote
        from airflow_provider_toloka.client.results import status_filter

        if method.lower().startswith("toloka:"):
            return self.aggregate_on_server(pool_id, method.split(":", 1)[1], fields)
        statuses = status_filter(_statuses(self.status) or None)
        answers = answers_of(self.hook.client.iter_assignments(pool_id, statuses), fields)
        if method == "majority_vote":
            return majority_vote(answers)
        return crowdkit_aggregate(method, answers)

    def aggregate_on_server(self, pool_id: str, method: str, fields: list[str]) -> dict[str, Aggregate]:
        """Run Toloka's aggregate-by-pool, wait for it, and read its results."""
        from airflow_provider_toloka.client.aggregation import Aggregate

        client = self.hook.client
        operation = client.aggregate_by_pool(pool_id, fields, method, self.answer_weight_skill_id)
        self.log.info("Aggregating pool %s on Toloka with %s (operation %s)", pool_id, method, operation.id)
        client.wait_operation(operation.id, timeout=self.timeout)
        return {
            str(item["task_id"]): Aggregate(item.get("output_values") or {}, _number(item.get("confidence")), None)
            for item in client.iter_aggregated_solutions(operation.id)
        }


class TolokaClosePoolOperator(TolokaResultsOperator):
    """Closes a pool (already closed counts as success) and optionally archives it; returns the pool id.

    :param pool_id: the pool (templated).
    :param archive: archive the pool once closed (it leaves the requester's pool list).
    :param timeout: seconds to wait for each of the POOL.CLOSE and POOL.ARCHIVE operations.
    """

    template_fields: Sequence[str] = ("pool_id", "toloka_conn_id")

    def __init__(self, *, pool_id: str, archive: bool = False, timeout: float = 600.0, **kwargs: Any) -> None:
        super().__init__(pool_id=pool_id, **kwargs)
        self.archive = archive
        self.timeout = timeout

    @fail_fast
    def execute(self, context: Context) -> str:
        client = self.hook.client
        pool_id = object_id(self.pool_id, "pool_id")
        pool = client.get_pool(pool_id)
        self.link_to(context, project_id=pool.project_id, pool_id=pool_id)
        if pool.status == "OPEN":
            operation = client.close_pool(pool_id)
            if operation is not None:
                self.log.info("Closing pool %s (operation %s)", pool_id, operation.id)
                client.wait_operation(operation.id, timeout=self.timeout)
        else:
            self.log.info("Pool %s is already %s", pool_id, pool.status)
        if self.archive:
            operation = client.archive_pool(pool_id)
            if operation is not None:
                self.log.info("Archiving pool %s (operation %s)", pool_id, operation.id)
                client.wait_operation(operation.id, timeout=self.timeout)
        pool = client.get_pool(pool_id)
        self.log.info("Pool %s is %s (%s)", pool_id, pool.status, pool.last_close_reason)
        return pool_id
