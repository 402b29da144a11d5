"""Pydantic models of the documented Toloka objects.

Every model keeps the fields it does not know (``extra="allow"``): the API adds fields over
time and a round trip must not drop them. The same checks serve the client (local validation
before any request) and the emulator (the API's 400 answers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from airflow_provider_toloka.client.validation import Error, check_spec


class TolokaModel(BaseModel):
    """Base of the models: unknown fields are kept, values are validated on assignment."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_api(self) -> dict[str, Any]:
        """The JSON-ready dict to send to the API (unset optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class FieldSpec(TolokaModel):
    """One field of ``input_spec`` or ``output_spec``."""

    type: str
    required: bool = True
    hidden: bool = False
    min_value: float | None = None
    max_value: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    allowed_values: list[Any] | None = None


class TaskSpec(TolokaModel):
    """Input, output and view specs of a project."""

    input_spec: dict[str, FieldSpec]
    output_spec: dict[str, FieldSpec]
    view_spec: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _check_field_types(cls, data: Any) -> Any:
        if isinstance(data, dict):
            errors = {}
            for name in ("input_spec", "output_spec"):
                if name in data:
                    errors.update(check_spec(data[name], name))
            if errors:
                raise ValueError("; ".join(f"{path}: {err['message']}" for path, err in errors.items()))
        return data


class Project(TolokaModel):
    """A Toloka project (POST /projects)."""

    id: str | None = None
    public_name: str = Field(min_length=1)
    public_description: str | None = None
    public_instructions: str | None = None
    private_comment: str | None = None
    task_spec: TaskSpec
    assignments_issuing_type: Literal["AUTOMATED", "MAP_SELECTOR"] = "AUTOMATED"
    assignments_issuing_view_config: dict[str, Any] | None = None
    assignments_automerge_enabled: bool | None = None
    max_active_assignments_count: int | None = None
    quality_control: dict[str, Any] | None = None
    localization_config: dict[str, Any] | None = None
    metadata: dict[str, list[str]] | None = None
    status: str | None = None
    created: datetime | None = None

    @model_validator(mode="after")
    def _map_selector_needs_title(self) -> Project:
        if self.assignments_issuing_type == "MAP_SELECTOR":
            config = self.assignments_issuing_view_config or {}
            if not config.get("title_template"):
                raise ValueError("assignments_issuing_view_config.title_template is required for MAP_SELECTOR")
        return self


#: The highest overlap of a task, and of the pool defaults.
MAX_OVERLAP = 30_000


class PoolDefaults(TolokaModel):
    """Defaults of a pool for new task suites (required) and tasks.

    Tasks uploaded with ``allow_defaults=false`` take ``default_overlap_for_new_tasks`` when they
    have no ``overlap``; without it, every task must set its own.
    """

    default_overlap_for_new_task_suites: int = Field(ge=1, le=MAX_OVERLAP)
    default_overlap_for_new_tasks: int | None = Field(default=None, ge=1, le=MAX_OVERLAP)


class MixerConfig(TolokaModel):
    """How many real, golden and training tasks go into one task suite."""

    real_tasks_count: int = Field(ge=0)
    golden_tasks_count: int = Field(default=0, ge=0)
    training_tasks_count: int = Field(default=0, ge=0)


class Pool(TolokaModel):
    """A Toloka pool (POST /pools)."""

    id: str | None = None
    project_id: str = Field(min_length=1)
    private_name: str = Field(min_length=1)
    may_contain_adult_content: bool | None = None
    will_expire: datetime
    reward_per_assignment: float = Field(ge=0)
    assignment_max_duration_seconds: int = Field(ge=5, le=2_147_483_647)
    defaults: PoolDefaults
    priority: int | None = Field(default=None, ge=0, le=100)
    auto_accept_period_day: int | None = Field(default=None, ge=1, le=21)
    auto_close_after_complete_delay_seconds: int | None = Field(default=None, ge=0, le=259_200)
    type: str | None = None
    mixer_config: MixerConfig | None = None
    quality_control: dict[str, Any] | None = None
    filter: dict[str, Any] | None = None
    public_description: str | None = None
    private_comment: str | None = None
    auto_accept_solutions: bool | None = None
    metadata: dict[str, list[str]] | None = None
    status: Literal["OPEN", "CLOSED", "ARCHIVED", "LOCKED"] | None = None
    last_close_reason: str | None = None
    created: datetime | None = None

    @field_validator("project_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Task(TolokaModel):
    """A Toloka task."""

    id: str | None = None
    pool_id: str | None = None
    input_values: dict[str, Any]
    overlap: int | None = Field(default=None, ge=1, le=MAX_OVERLAP)
    infinite_overlap: bool | None = None
    reserved_for: list[str] | None = None
    unavailable_for: list[str] | None = None
    known_solutions: list[dict[str, Any]] | None = None
    message_on_unknown_solution: str | None = None
    created: datetime | None = None


class OperationDetails(TolokaModel):
    """Counts of a TASK.BATCH_CREATE operation."""

    total_count: int | None = None
    valid_count: int | None = None
    not_valid_count: int | None = None
    success_count: int | None = None
    failed_count: int | None = None


class Operation(TolokaModel):
    """An asynchronous operation (TASK.BATCH_CREATE, POOL.OPEN, ...)."""

    id: str
    type: str
    status: Literal["PENDING", "RUNNING", "SUCCESS", "FAIL"]
    submitted: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    progress: int | None = None
    parameters: dict[str, Any] | None = None
    details: OperationDetails | dict[str, Any] | None = None

    @property
    def is_done(self) -> bool:
        """Whether the operation has finished, successfully or not."""
        return self.status in ("SUCCESS", "FAIL")


#: pydantic error type -> the API's validation code (anything else is INVALID_VALUE).
_CODES = {
    "missing": "VALUE_REQUIRED",
    "greater_than": "VALUE_LESS_THAN_MIN",
    "greater_than_equal": "VALUE_LESS_THAN_MIN",
    "less_than": "VALUE_GREATER_THAN_MAX",
    "less_than_equal": "VALUE_GREATER_THAN_MAX",
    "string_type": "STRING_EXPECTED",
    "string_too_short": "STRING_LENGTH_LESS_THAN_MIN",
    "string_too_long": "STRING_LENGTH_GREATER_THAN_MAX",
    "int_type": "INTEGER_EXPECTED",
    "int_parsing": "INTEGER_EXPECTED",
    "int_from_float": "INTEGER_EXPECTED",
    "float_type": "FLOAT_EXPECTED",
    "float_parsing": "FLOAT_EXPECTED",
    "bool_type": "BOOLEAN_EXPECTED",
    "bool_parsing": "BOOLEAN_EXPECTED",
    "dict_type": "OBJECT_EXPECTED",
    "model_type": "OBJECT_EXPECTED",
    "model_attributes_type": "OBJECT_EXPECTED",
    "list_type": "ARRAY_EXPECTED",
    "datetime_type": "INVALID_DATE_TIME_SYNTAX",
    "datetime_parsing": "INVALID_DATE_TIME_SYNTAX",
    "datetime_from_date_parsing": "INVALID_DATE_TIME_SYNTAX",
    "literal_error": "UNKNOWN_ENUM_VALUE",
}


def field_errors(exc: ValidationError, prefix: str = "") -> dict[str, Error]:
    """Turn a pydantic ValidationError into Toloka's ``field path -> {code, message}``."""
    errors: dict[str, Error] = {}
    for item in exc.errors():
        path = ".".join(str(part) for part in item["loc"])
        path = f"{prefix}{path}" if path else prefix.rstrip(".") or "body"
        errors[path] = {"code": _CODES.get(item["type"], "INVALID_VALUE"), "message": item["msg"]}
    return errors


def project_errors(data: Any) -> dict[str, Error]:
    """Field errors of a project body; empty when it is valid."""
    task_spec = data.get("task_spec") if isinstance(data, dict) else None
    if isinstance(task_spec, dict):
        errors = {}
        for name in ("input_spec", "output_spec"):
            errors.update(check_spec(task_spec.get(name), f"task_spec.{name}"))
        if errors:
            return errors
    try:
        Project.model_validate(data)
    except ValidationError as exc:
        return field_errors(exc)
    return {}


def pool_errors(data: Any) -> dict[str, Error]:
    """Field errors of a pool body; empty when it is valid."""
    try:
        Pool.model_validate(data)
    except ValidationError as exc:
        return field_errors(exc)
    return {}
