"""The documented fields of the objects the emulator creates; anything else in a request is refused.

From ``fullApi.yaml``: the form fields (``PoolFormV1``, ``ProjectFormV1``) plus the read-only
fields of the view, which a client may send back after reading an object (they are ignored).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_toloka.testing.errors import field_error

PROJECT_FORM_FIELDS = frozenset(
    {
        "assignments_automerge_enabled",
        "assignments_issuing_type",
        "assignments_issuing_view_config",
        "localization_config",
        "max_active_assignments_count",
        "metadata",
        "private_comment",
        "public_description",
        "public_instructions",
        "public_name",
        "quality_control",
        "sensitive",
        "task_spec",
    }
)
PROJECT_READ_ONLY_FIELDS = frozenset({"id", "created", "owner", "status"})

POOL_FORM_FIELDS = frozenset(
    {
        "assignment_max_duration_seconds",
        "assignments_issuing_config",
        "auto_accept_period_day",
        "auto_accept_solutions",
        "auto_close_after_complete_delay_seconds",
        "defaults",
        "dynamic_overlap_config",
        "dynamic_pricing_config",
        "filter",
        "may_contain_adult_content",
        "metadata",
        "mixer_config",
        "priority",
        "private_comment",
        "private_name",
        "project_id",
        "public_description",
        "public_instructions",
        "quality_control",
        "reward_per_assignment",
        "speed_quality_balance",
        "training",
        "training_config",
        "will_expire",
    }
)
POOL_READ_ONLY_FIELDS = frozenset(
    {"id", "created", "owner", "status", "type", "last_close_reason", "last_started", "last_stopped"}
)


def unknown_field_errors(body: Mapping[str, Any], *known: Iterable[str]) -> dict[str, dict[str, str]]:
    """``field -> VALUE_NOT_ALLOWED`` for each top-level key of ``body`` in none of the ``known`` sets."""
    allowed = frozenset().union(*known)
    return {key: field_error("VALUE_NOT_ALLOWED", "Unknown field name") for key in body if key not in allowed}


def writable(body: Mapping[str, Any], form_fields: frozenset[str]) -> dict[str, Any]:
    """The form fields of ``body`` (read-only fields sent back are dropped)."""
    return {key: value for key, value in body.items() if key in form_fields}
