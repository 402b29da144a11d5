"""Messages and totals of operations, from operation logs of every shape."""

from __future__ import annotations

from typing import Any

from airflow_provider_toloka.client.models import Operation
from airflow_provider_toloka.client.operations import OperationTracker, describe_failure, first_errors, totals

NOT_CREATED = {"message": "Not created: the operation failed because of invalid items"}


def line(index: int, output: Any, success: bool = False) -> dict[str, Any]:
    """A log line of the documented shape: ``input`` is the item as sent, with the client's index tag."""
    kind = "TASK_CREATE" if success else "TASK_VALIDATE"
    item = {"pool_id": "1", "input_values": {"image": "x"}, "__item_idx": str(index)}
    return {"type": kind, "success": success, "input": item, "output": output}


def test_first_errors_without_the_tag_say_so() -> None:
    untagged = {"type": "TASK_VALIDATE", "success": False, "input": {"pool_id": "1", "input_values": {}}}
    untagged["output"] = {"input_values.image": {"code": "VALUE_REQUIRED", "message": "missing"}}
    assert first_errors([untagged]) == ["item ?: input_values.image: VALUE_REQUIRED (missing)"]


def test_first_errors_prefers_field_errors_in_either_shape() -> None:
    required = {"input_values.image": {"code": "VALUE_REQUIRED", "message": "missing"}}
    log = [
        line(0, {"task_id": "t0"}, success=True),
        line(1, NOT_CREATED),
        line(2, NOT_CREATED),
        line(3, required),  # as the API gives it
        line(4, {"validation_errors": {"input_values.x": {"code": "FIELD_NOT_ALLOWED", "message": "unknown"}}}),
        line(5, required),
        line(6, required),
    ]
    assert first_errors(log) == [
        "item 3: input_values.image: VALUE_REQUIRED (missing)",
        "item 4: input_values.x: FIELD_NOT_ALLOWED (unknown)",
        "item 5: input_values.image: VALUE_REQUIRED (missing)",
    ]
    assert first_errors(log, limit=1) == ["item 3: input_values.image: VALUE_REQUIRED (missing)"]


def test_first_errors_without_field_errors_falls_back_to_the_outputs() -> None:
    log = [line(0, NOT_CREATED), {"success": False, "output": "boom"}, line(2, {}), line(3, NOT_CREATED)]
    lines = first_errors(log)
    assert lines[0] == f"item 0: {NOT_CREATED}"
    assert lines[1] == "item ?: boom"
    assert len(lines) == 3
    assert first_errors([line(0, {"task_id": "x"}, success=True)]) == []


def test_describe_failure_and_totals() -> None:
    failed = Operation.model_validate(
        {
            "id": "op-1",
            "type": "TASK.BATCH_CREATE",
            "status": "FAIL",
            "details": {"total_count": 3, "not_valid_count": 1, "failed_count": 3, "extra": "kept"},
        }
    )
    message = describe_failure(failed, [line(0, NOT_CREATED), line(1, {"": {"code": "INVALID_TYPE", "message": "x"}})])
    assert message.startswith("Operation op-1 (TASK.BATCH_CREATE) failed: total_count=3, not_valid_count=1")
    assert "First errors: item 1: task: INVALID_TYPE (x)" in message
    assert message.endswith("upload with skip_invalid_items=True")
    pool_op = Operation.model_validate({"id": "op-2", "type": "POOL.OPEN", "status": "FAIL"})
    assert describe_failure(pool_op) == "Operation op-2 (POOL.OPEN) failed"

    done = Operation.model_validate(
        {"id": "op-3", "type": "TASK.BATCH_CREATE", "status": "SUCCESS", "details": {"success_count": "5"}}
    )
    assert totals([failed, done, pool_op]) == {
        "total_count": 3,
        "valid_count": 0,
        "not_valid_count": 1,
        "success_count": 5,
        "failed_count": 3,
        "operations": 3,
    }


def _operation(operation_id: str, status: str, **details: int) -> Operation:
    return Operation.model_validate(
        {"id": operation_id, "type": "TASK.BATCH_CREATE", "status": status, "details": details or None}
    )


def test_tracker_waits_for_every_operation_and_sums_their_counts():
    tracker = OperationTracker(["a", "b", "a"])  # repeated ids count once
    assert tracker.pending == ["a", "b"] and not tracker.done
    tracker.update(_operation("a", "SUCCESS", total_count=2, success_count=2))
    tracker.update(_operation("b", "RUNNING"))
    assert tracker.pending == ["b"] and not tracker.done
    tracker.update(_operation("b", "SUCCESS", total_count=3, success_count=3))
    assert tracker.done and tracker.pending == []
    assert tracker.totals()["success_count"] == 5 and tracker.totals()["operations"] == 2


def test_tracker_stops_at_the_first_failure_with_its_message():
    tracker = OperationTracker(["a", "b"])
    tracker.update(_operation("a", "FAIL", total_count=1, failed_count=1))
    assert not tracker.done and tracker.pending == [] and tracker.failed_id == "a"
    log = [{"success": False, "input": {"index": 0}, "output": {"input_values.image": {"code": "VALUE_REQUIRED"}}}]
    error = tracker.failure(log)
    assert "Operation a (TASK.BATCH_CREATE) failed: total_count=1, failed_count=1" in str(error)
    assert "VALUE_REQUIRED" in str(error) and error.operation is tracker.failed


def test_tracker_timeout_names_what_is_still_running():
    tracker = OperationTracker(["a", "b"])
    tracker.update(_operation("a", "SUCCESS"))
    assert str(tracker.timeout(60)) == "Operations still running after 60s: b"
