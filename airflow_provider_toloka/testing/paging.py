"""Listing parameters (``sort``, ``id_gt``, ``created_lt``, ``limit``, ...) and paging of small collections."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_toloka.testing.errors import field_error, validation_error
from airflow_provider_toloka.testing.timefmt import parse_time

IdKey = Callable[[str], Any]


def numeric_id(value: str) -> int:
    """Sort key of numeric string ids (projects, pools)."""
    return int(value)


def text_id(value: str) -> str:
    """Sort key of string ids that sort as text (tasks, operations)."""
    return value


#: Comparison suffixes of the range filters (``created_gte``, ``overlap_lt``, ...).
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")
Parser = Callable[[str], Any]


def parse_int(value: str) -> int:
    """An integer query parameter."""
    return int(value)


def parse_limit(params: Mapping[str, str], default: int, maximum: int) -> int:
    """The ``limit`` query parameter (``default`` when absent).

    :raises ApiError: 400 VALIDATION_ERROR (VALUE_NOT_ALLOWED) unless it is an integer in [1, ``maximum``].
    """
    raw = params.get("limit")
    try:
        limit = default if raw is None else int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= maximum:
        raise validation_error(
            {"limit": field_error("VALUE_NOT_ALLOWED", f"limit must be an integer in [1, {maximum}]")}
        )
    return limit


@dataclass(frozen=True)
class ListQuery:
    """The paging, sorting and range-filter part of a list request.

    :param sort: the ``sort`` parameter as sent (first key), kept for callers that read it.
    :param sort_keys: every sort key as ``(field, descending)``, in order (``sort=created,-id``).
    :param ranges: ``(field, operator, value)`` of the range filters other than ``id_*``
        (e.g. ``("created", "gte", 1.7e9)``); values parsed (times as POSIX seconds).
    """

    sort: str = "id"
    id_gt: str | None = None
    id_lt: str | None = None
    id_gte: str | None = None
    id_lte: str | None = None
    created_gt: float | None = None
    created_lt: float | None = None
    limit: int = 50
    sort_keys: tuple[tuple[str, bool], ...] = (("id", False),)
    ranges: tuple[tuple[str, str, Any], ...] = ()

    @property
    def descending(self) -> bool:
        """Whether the (first) sort key is descending (``-id``, ``-created``)."""
        return self.sort_keys[0][1] if self.sort_keys else self.sort.startswith("-")

    @property
    def by_id_only(self) -> bool:
        """Whether the query sorts by id alone and filters by nothing but id bounds."""
        return not self.ranges and len(self.sort_keys) == 1 and self.sort_keys[0][0] == "id"

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, str],
        *,
        default_limit: int = 50,
        max_limit: int = 300,
        sort_fields: tuple[str, ...] = ("id", "created"),
        range_fields: Mapping[str, Parser] | None = None,
    ) -> ListQuery:
        """Read the query parameters of a list request.

        :param sort_fields: the documented sort keys.
        :param range_fields: field -> parser of its documented ``_gt/_gte/_lt/_lte`` filters
            (default: ``created``, a date-time).
        :raises ApiError: 400 VALIDATION_ERROR on a bad ``sort``, ``limit``, date or number.
        """
        keys = []
        for raw_key in (params.get("sort") or "id").split(","):
            key = raw_key.strip()
            if key.lstrip("-") not in sort_fields:
                allowed = ", ".join(f"{name}, -{name}" for name in sort_fields)
                raise validation_error(
                    {"sort": {"code": "VALUE_NOT_ALLOWED", "message": f"sort keys must be among {allowed}"}}
                )
            keys.append((key.lstrip("-"), key.startswith("-")))
        limit = parse_limit(params, default_limit, max_limit)
        ranges = []
        for field_name, parser in (range_fields if range_fields is not None else {"created": parse_time}).items():
            for operator in RANGE_OPERATORS:
                name = f"{field_name}_{operator}"
                value = params.get(name)
                if value is not None:
                    ranges.append((field_name, operator, _parsed(name, value, parser)))
        created = {operator: value for field_name, operator, value in ranges if field_name == "created"}
        return cls(
            sort=(params.get("sort") or "id").split(",")[0].strip(),
            id_gt=params.get("id_gt"),
            id_lt=params.get("id_lt"),
            id_gte=params.get("id_gte"),
            id_lte=params.get("id_lte"),
            created_gt=created.get("gt"),
            created_lt=created.get("lt"),
            limit=limit,
            sort_keys=tuple(keys),
            ranges=tuple(ranges),
        )


def _parsed(name: str, value: str, parser: Parser) -> Any:
    try:
        return parser(value)
    except ValueError:
        expected = "an ISO 8601 date-time YYYY-MM-DDThh:mm:ss[.sss]" if parser is parse_time else "a number"
        raise validation_error({name: {"code": "INVALID_VALUE", "message": f"Expected {expected}"}}) from None


def _in_range(value: Any, operator: str, bound: Any) -> bool:
    if value is None:
        return False
    if operator == "gt":
        return value > bound
    if operator == "gte":
        return value >= bound
    if operator == "lt":
        return value < bound
    return value <= bound


def _comparable(obj: Mapping[str, Any], field_name: str, bound: Any) -> Any:
    """``obj[field_name]`` in the bound's terms (date-time text as POSIX seconds)."""
    value = obj.get(field_name)
    if isinstance(value, str) and isinstance(bound, float):
        return parse_time(value)
    return value


def matches_ranges(obj: Mapping[str, Any], ranges: Iterable[tuple[str, str, Any]]) -> bool:
    """Whether ``obj`` passes every range filter."""
    return all(_in_range(_comparable(obj, name, bound), operator, bound) for name, operator, bound in ranges)


def _id_bound(value: str | None, id_key: IdKey, name: str) -> Any:
    if value is None:
        return None
    try:
        return id_key(value)
    except ValueError:
        raise validation_error({name: {"code": "INVALID_VALUE", "message": f"Invalid id {value!r}"}}) from None


def _wanted(value: str) -> frozenset[str]:
    """A filter value; a comma-separated list (``status=OPEN,CLOSED``) matches any of its items."""
    return frozenset(part.strip() for part in value.split(","))


def sort_key(field_name: str, id_key: IdKey) -> Callable[[tuple[Any, dict[str, Any]]], Any]:
    """The sort key of ``(id key, object)`` pairs for one field (missing values sort first)."""
    if field_name == "id":
        return lambda pair: pair[0]
    return lambda pair: (pair[1].get(field_name) is not None, pair[1].get(field_name) or "")


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
    :param query: paging, sorting and range filters.
    :param filters: field -> required value, or comma-separated values (``None`` values are ignored).
    :param id_key: sort key of the ``id`` field.
    :param created_field: the field that ``created`` filters and sorts read (``submitted`` for operations).
    :return: the page and whether more objects follow it.
    """
    wanted = {name: _wanted(value) for name, value in (filters or {}).items() if value is not None}
    id_gt = _id_bound(query.id_gt, id_key, "id_gt")
    id_lt = _id_bound(query.id_lt, id_key, "id_lt")
    id_gte = _id_bound(query.id_gte, id_key, "id_gte")
    id_lte = _id_bound(query.id_lte, id_key, "id_lte")
    ranges = [(created_field if name == "created" else name, op, bound) for name, op, bound in query.ranges]
    selected = []
    for obj in objects:
        if any(str(obj.get(name)) not in values for name, values in wanted.items()):
            continue
        key = id_key(obj["id"])
        if (id_gt is not None and key <= id_gt) or (id_lt is not None and key >= id_lt):
            continue
        if (id_gte is not None and key < id_gte) or (id_lte is not None and key > id_lte):
            continue
        if ranges and not matches_ranges(obj, ranges):
            continue
        selected.append((key, obj))
    selected.sort(key=lambda pair: pair[0], reverse=query.descending)  # ties go by id, in the first key's direction
    for field_name, descending in reversed(query.sort_keys):
        name = created_field if field_name == "created" else field_name
        selected.sort(key=sort_key(name, id_key), reverse=descending)
    page = [obj for _, obj in selected[: query.limit]]
    return page, len(selected) > query.limit
