"""Listing parameters (``sort``, ``id_gt``, ``created_lt``, ``limit``, ...) and paging of small collections."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_toloka.testing.errors import validation_error
from airflow_provider_toloka.testing.timefmt import parse_time

IdKey = Callable[[str], Any]


def numeric_id(value: str) -> int:
    """Sort key of numeric string ids (projects, pools)."""
    return int(value)


def text_id(value: str) -> str:
    """Sort key of string ids that sort as text (tasks, operations)."""
    return value


@dataclass(frozen=True)
class ListQuery:
    """The paging and sorting part of a list request."""

    sort: str = "id"
    id_gt: str | None = None
    id_lt: str | None = None
    id_gte: str | None = None
    id_lte: str | None = None
    created_gt: float | None = None
    created_lt: float | None = None
    limit: int = 50

    @property
    def descending(self) -> bool:
        """Whether the sort is descending (``-id``, ``-created``)."""
        return self.sort.startswith("-")

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, str],
        *,
        default_limit: int = 50,
        max_limit: int = 300,
        sort_fields: tuple[str, ...] = ("id", "created"),
    ) -> ListQuery:
        """Read the query parameters of a list request.

        :raises ApiError: 400 VALIDATION_ERROR on a bad ``sort``, ``limit`` or date.
        """
        sort = (params.get("sort") or "id").split(",")[0].strip()
        if sort.lstrip("-") not in sort_fields:
            allowed = ", ".join(f"{name}, -{name}" for name in sort_fields)
            raise validation_error({"sort": {"code": "VALUE_NOT_ALLOWED", "message": f"sort must be one of {allowed}"}})
        raw_limit = params.get("limit")
        try:
            limit = default_limit if raw_limit is None else int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= max_limit:
            raise validation_error(
                {"limit": {"code": "VALUE_NOT_ALLOWED", "message": f"limit must be an integer in [1, {max_limit}]"}}
            )
        return cls(
            sort=sort,
            id_gt=params.get("id_gt"),
            id_lt=params.get("id_lt"),
            id_gte=params.get("id_gte"),
            id_lte=params.get("id_lte"),
            created_gt=_time_param(params, "created_gt"),
            created_lt=_time_param(params, "created_lt"),
            limit=limit,
        )


def _time_param(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise validation_error(
            {name: {"code": "INVALID_VALUE", "message": "Expected an ISO 8601 date-time YYYY-MM-DDThh:mm:ss[.sss]"}}
        ) from None


def _id_bound(value: str | None, id_key: IdKey, name: str) -> Any:
    if value is None:
        return None
    try:
        return id_key(value)
    except ValueError:
        raise validation_error({name: {"code": "INVALID_VALUE", "message": f"Invalid id {value!r}"}}) from None


def page_objects(
    objects: Iterable[dict[str, Any]],
    query: ListQuery,
    *,
    filters: Mapping[str, str | None] | None = None,
    id_key: IdKey = text_id,
    created_field: str = "created",
) -> tuple[list[dict[str, Any]], bool]:
    """Filter, sort and cut one page of a small collection (linear in its size).

    :param objects: the stored objects.
    :param query: paging and sorting.
    :param filters: field -> required value (``None`` values are ignored).
    :param id_key: sort key of the ``id`` field.
    :param created_field: the creation time field (``created``, or ``submitted`` for operations).
    :return: the page and whether more objects follow it.
    """
    wanted = {name: value for name, value in (filters or {}).items() if value is not None}
    id_gt = _id_bound(query.id_gt, id_key, "id_gt")
    id_lt = _id_bound(query.id_lt, id_key, "id_lt")
    id_gte = _id_bound(query.id_gte, id_key, "id_gte")
    id_lte = _id_bound(query.id_lte, id_key, "id_lte")
    selected = []
    for obj in objects:
        if any(str(obj.get(name)) != value for name, value in wanted.items()):
            continue
        key = id_key(obj["id"])
        if (id_gt is not None and key <= id_gt) or (id_lt is not None and key >= id_lt):
            continue
        if (id_gte is not None and key < id_gte) or (id_lte is not None and key > id_lte):
            continue
        if query.created_gt is not None or query.created_lt is not None:
            created = parse_time(obj[created_field])
            if (query.created_gt is not None and created <= query.created_gt) or (
                query.created_lt is not None and created >= query.created_lt
            ):
                continue
        selected.append((key, obj))
    if query.sort.lstrip("-") == "created":
        selected.sort(key=lambda pair: (pair[1][created_field], pair[0]), reverse=query.descending)
    else:
        selected.sort(key=lambda pair: pair[0], reverse=query.descending)
    page = [obj for _, obj in selected[: query.limit]]
    return page, len(selected) > query.limit
