"""Routes of attachments: files tolokers attached to assignments (seeded with ``state.extended.add_attachment``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.errors import does_not_exist
from airflow_provider_toloka.testing.extended_state import Attachment
from airflow_provider_toloka.testing.paging import ListQuery, page_objects, text_id
from airflow_provider_toloka.testing.routing import json_response, page_response
from airflow_provider_toloka.testing.store_access import StoreAccess

#: Query parameter -> the attachment's field it filters on.
FILTERS = {
    "pool_id": ("details", "pool_id"),
    "assignment_id": ("details", "assignment_id"),
    "user_id": ("details", "user_id"),
    "name": ("name",),
    "type": ("attachment_type",),
}


def attachments_router(access: StoreAccess) -> APIRouter:
    """The attachment endpoints (mounted under ``/api/v1`` with the API's authentication)."""
    router = APIRouter()
    stored = access.state.extended.attachments

    def find(attachment_id: str) -> Attachment:
        with access.transaction():
            attachment = stored.get(attachment_id)
        if attachment is None:
            raise does_not_exist("Attachment", attachment_id)
        return attachment

    @router.get("/attachments")
    async def list_attachments(request: Request) -> Response:
        params = request.query_params
        query = ListQuery.from_params(params, sort_fields=("id", "created"))
        wanted = {name: params[name] for name in FILTERS if name in params}
        with access.transaction():
            views = [item.view for item in stored.values() if _matches(item.view, wanted)]
        return page_response(page_objects(views, query, id_key=text_id))

    @router.get("/attachments/{attachment_id}")
    async def get_attachment(attachment_id: str) -> Response:
        return json_response(find(attachment_id).view)

    @router.get("/attachments/{attachment_id}/download")
    async def download_attachment(attachment_id: str) -> Response:
        attachment = find(attachment_id)
        disposition = f'attachment; filename="{attachment.view["name"]}"'
        return Response(
            attachment.content,
            media_type=attachment.view["media_type"],
            headers={"Content-Disposition": disposition},
        )

    return router


def _matches(view: dict[str, Any], wanted: dict[str, str]) -> bool:
    for name, value in wanted.items():
        found: Any = view
        for key in FILTERS[name]:
            found = found.get(key) if isinstance(found, dict) else None
        if str(found) != value:
            return False
    return True
