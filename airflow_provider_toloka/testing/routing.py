"""JSON answers and the usual kinds of endpoint of the emulated API, shared by ``app.py`` and the ``routes_*`` modules.

Bodies are parsed with ``json.loads`` and answers are pre-serialized JSON: no per-task pydantic work on the hot path.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_toloka.testing.errors import validation_error
from airflow_provider_toloka.testing.paging import ListQuery, parse_int
from airflow_provider_toloka.testing.timefmt import parse_time

#: Turns what a store method returned into the HTTP answer.
Answer = Callable[[Any], Response]
TRUE_VALUES = ("true", "1")
FALSE_VALUES = ("false", "0")
#: The documented range filters of GET /tasks and GET /task-suites.
TASK_RANGE_FIELDS = {"created": parse_time, "overlap": parse_int}


def json_response(content: Any, status: int = 200) -> Response:
    """A JSON answer serialized once with the standard library."""
    return Response(json.dumps(content).encode(), status_code=status, media_type="application/json")


def created(content: Any) -> Response:
    """201 with ``content``."""
    return json_response(content, 201)


def accepted(content: Any) -> Response:
    """202 with ``content``."""
    return json_response(content, 202)


def no_content(_: Any) -> Response:
    """204 whatever was returned."""
    return Response(status_code=204)


def operation_or_no_content(operation: dict[str, Any] | None) -> Response:
    """202 with the operation, or 204 when there was nothing to do."""
    return no_content(None) if operation is None else accepted(operation)


def page_response(page: tuple[list[dict[str, Any]], bool]) -> Response:
    """``{"items": [...], "has_more": bool}``."""
    items, has_more = page
    return json_response({"items": items, "has_more": has_more})


def parse_json(raw: bytes) -> Any:
    """A request body parsed as JSON (400 VALIDATION_ERROR, field code JSON_EXPECTED, when it is not)."""
    try:
        return json.loads(raw)
    except ValueError:
        raise validation_error({"body": {"code": "JSON_EXPECTED", "message": "The body is not valid JSON"}}) from None


async def json_body(request: Request) -> Any:
    """The request body parsed as JSON (400 VALIDATION_ERROR when it is not)."""
    return parse_json(await request.body())


def bool_param(params: Mapping[str, str], name: str) -> bool:
    """A boolean query parameter (``true``/``false``, any case; absent is false)."""
    value = params.get(name)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise validation_error({name: {"code": "INVALID_VALUE", "message": "Expected true or false"}})


def operation_id_param(params: Mapping[str, str]) -> str | None:
    """The ``operation_id`` query parameter, kept as sent; it must be a UUID (RFC 4122)."""
    value = params.get("operation_id")
    if value is None:
        return None
    try:
        uuid.UUID(value)
        return value
    except ValueError:
        raise validation_error(
            {"operation_id": {"code": "INVALID_VALUE", "message": "operation_id must be a UUID (RFC 4122)"}}
        ) from None


def overlap_query(params: Mapping[str, str], **query_options: Any) -> ListQuery:
    """The :class:`ListQuery` of GET /tasks and /task-suites: ``created`` and ``overlap`` ranges.

    ``overlap=N`` is ``overlap_gte=N`` and ``overlap_lte=N``; every parameter sent is checked first.
    """
    query = ListQuery.from_params(params, range_fields=TASK_RANGE_FIELDS, **query_options)
    overlap = params.get("overlap")
    if overlap is None:
        return query
    both = {**params, "overlap_gte": overlap, "overlap_lte": overlap}
    return ListQuery.from_params(both, range_fields=TASK_RANGE_FIELDS, **query_options)


class Routes:
    """Adds endpoints that hand the request to one store method and answer with what it returns.

    :param router: the router the endpoints are added to.
    """

    def __init__(self, router: APIRouter) -> None:
        self.router = router

    def add(
        self,
        method: str,
        path: str,
        call: Callable[..., Any],
        *,
        body: bool = False,
        query: bool = False,
        answer: Answer = json_response,
    ) -> None:
        """``method path`` answers ``answer(call(*path parameters, [query parameters], [JSON body]))``.

        :param method: the HTTP method.
        :param path: the path; its parameters go to ``call`` in the order they appear.
        :param call: the store method.
        :param body: pass the parsed JSON body last.
        :param query: pass the query parameters after the path parameters.
        :param answer: how the result becomes the HTTP answer (200 JSON by default).
        """

        async def endpoint(request: Request) -> Response:
            args: list[Any] = list(request.path_params.values())
            if query:
                args.append(request.query_params)
            if body:
                args.append(await json_body(request))
            return answer(call(*args))

        self.router.add_api_route(path, endpoint, methods=[method], name=call.__name__)

    def listing(self, path: str, call: Callable[..., Any], filters: tuple[str, ...] = (), **query_options: Any) -> None:
        """``GET path`` answers a page of ``call(query, *filter values)``.

        :param path: the collection's path.
        :param call: the store method listing it.
        :param filters: the query parameters passed after the :class:`ListQuery` (None when absent).
        :param query_options: keyword arguments of :meth:`ListQuery.from_params` (sort and range fields, limits).
        """

        async def endpoint(request: Request) -> Response:
            params = request.query_params
            query = ListQuery.from_params(params, **query_options)
            return page_response(call(query, *(params.get(name) for name in filters)))

        self.router.add_api_route(path, endpoint, methods=["GET"], name=call.__name__)

    def upload(
        self,
        path: str,
        what: str,
        create_one: Callable[..., Any],
        create_sync: Callable[..., Any],
        create_async: Callable[..., Any],
    ) -> None:
        """``POST path`` of tasks or task suites: one object, a synchronous array, or ``async_mode=true``.

        :param path: the collection's path.
        :param what: what is posted, for the error message (``a task or an array of tasks``).
        :param create_one: ``(item, allow_defaults)`` -> the created object.
        :param create_sync: ``(items, skip_invalid_items, allow_defaults, body_size)`` -> items and errors.
        :param create_async: ``(items, *, allow_defaults, skip_invalid_items, open_pool, operation_id, body_size)``
            -> the batch operation.
        """

        async def endpoint(request: Request) -> Response:
            params = request.query_params
            raw = await request.body()
            body = parse_json(raw)
            if not isinstance(body, (dict, list)):
                raise validation_error({"body": {"code": "OBJECT_EXPECTED", "message": f"Send {what}"}})
            allow_defaults = bool_param(params, "allow_defaults")
            skip_invalid_items = bool_param(params, "skip_invalid_items")
            if not bool_param(params, "async_mode"):
                if isinstance(body, dict):
                    return created(create_one(body, allow_defaults))
                return created(create_sync(body, skip_invalid_items, allow_defaults, len(raw)))
            operation = create_async(
                body if isinstance(body, list) else [body],
                allow_defaults=allow_defaults,
                skip_invalid_items=skip_invalid_items,
                open_pool=bool_param(params, "open_pool"),
                operation_id=operation_id_param(params),
                body_size=len(raw),
            )
            return created(operation)

        self.router.add_api_route(path, endpoint, methods=["POST"], name=create_async.__name__)
