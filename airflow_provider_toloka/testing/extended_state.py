"""Objects of the emulator's extra endpoints: skills, Toloker skills, trainings, task suites, attachments.

Kept apart from ``EmulatorState`` (which holds one ``ExtendedState`` as ``state.extended``); access is
under the state's lock (see ``StoreAccess``).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Attachment:
    """A file a toloker attached to an assignment: its API view and its bytes."""

    view: dict[str, Any]
    content: bytes


@dataclass
class ExtendedState:
    """Stores of the extra endpoints (ids of skills and Toloker skills are numeric, as text)."""

    skills: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_skills: dict[str, dict[str, Any]] = field(default_factory=dict)
    trainings: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_suites: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> str:
        """A new numeric id (skills, Toloker skills)."""
        return str(next(self.ids))

    def add_attachment(
        self,
        pool_id: str,
        assignment_id: str,
        name: str,
        content: bytes,
        media_type: str = "application/octet-stream",
        user_id: str = "emulated-toloker",
        created: str = "2024-01-01T00:00:00.000",
    ) -> dict[str, Any]:
        """Seed one attachment (tolokers upload them; the API only lists and serves them).

        :param pool_id: the pool of the assignment.
        :param assignment_id: the assignment the file belongs to.
        :param name: the file name.
        :param content: the file's bytes, served by ``/attachments/{id}/download``.
        :param media_type: its MIME type.
        :param user_id: the toloker who uploaded it.
        :param created: upload time, ``YYYY-MM-DDThh:mm:ss.sss``.
        :return: the attachment's API view.
        """
        from airflow_provider_toloka.testing.state import OWNER

        attachment_id = str(uuid.uuid4())
        view: dict[str, Any] = {
            "id": attachment_id,
            "attachment_type": "ASSIGNMENT_ATTACHMENT",
            "name": name,
            "details": {"user_id": user_id, "assignment_id": assignment_id, "pool_id": str(pool_id)},
            "owner": OWNER,
            "created": created,
            "media_type": media_type,
        }
        self.attachments[attachment_id] = Attachment(view, content)
        return view
