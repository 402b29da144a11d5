"""AsyncTolokaClient: the read calls that triggers poll with, on httpx."""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx

from airflow_provider_toloka.client.config import ClientConfig
from airflow_provider_toloka.client.errors import api_error_from_response
from airflow_provider_toloka.client.http import decode_body, is_tls_failure, network_error, success_body
from airflow_provider_toloka.client.logger import LoggerLike
from airflow_provider_toloka.client.models import Operation, Pool
from airflow_provider_toloka.client.operations import OperationTracker
from airflow_provider_toloka.client.pools import DEFAULT_SCAN_LIMIT, PoolProgress, PoolState
from airflow_provider_toloka.client.retry import RetryState

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every async client: building one loads the CA bundle (~20 ms, ~1 MB)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class AsyncTolokaClient:
    """Async reads of operations, pools and their progress, with the same retry policy as :class:`TolokaClient`.

    Use it as ``async with AsyncTolokaClient(config) as client: ...``.
    """

    def __init__(self, config: ClientConfig, logger: LoggerLike | None = None) -> None:
        self.config = config
        self.log: LoggerLike = logger or log
        self._client = httpx.AsyncClient(
            base_url=config.api_url,
            headers=config.headers,
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            verify=shared_ssl_context(),
        )

    def __repr__(self) -> str:
        return f"AsyncTolokaClient({self.config.base_url!r})"

    async def __aenter__(self) -> AsyncTolokaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()

    async def request(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """Send one idempotent request with retries and return the decoded JSON."""
        state = RetryState(self.config.retry, retry_unsafe=True)
        attempts = 0
        while True:
            attempts += 1
            try:
                response = await self._client.request(method, path, params=params)
            except httpx.TransportError as exc:
                tls = is_tls_failure(exc)
                delay = None if tls else state.after_exception(sent=not isinstance(exc, httpx.ConnectError))
                if delay is None:
                    raise network_error(method, path, self.config.base_url, attempts, exc, False) from None
                self.log.warning("%s %s failed (%s); retrying in %.1fs", method, path, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            if response.status_code < 400:
                return success_body(response.status_code, response.content, method, path)
            body = decode_body(response.content)
            delay = state.after_status(response.status_code, response.headers, body, method, path)
            if delay is None:
                raise api_error_from_response(response.status_code, body, method, path)
            await asyncio.sleep(delay)

    async def get_operation(self, operation_id: str) -> Operation:
        """Read an operation."""
        return Operation.model_validate(await self.request("GET", f"/operations/{operation_id}"))

    async def get_operation_log(self, operation_id: str) -> list[dict[str, Any]]:
        """The per-item results of an operation."""
        return await self.request("GET", f"/operations/{operation_id}/log") or []

    async def poll_operations(self, tracker: OperationTracker) -> OperationTracker:
        """Read every pending operation of ``tracker`` once (the async twin of the sync client's).

        :raises TolokaOperationFailedError: one ended FAIL; the message names its first item errors.
        """
        for operation_id in tracker.pending:
            tracker.update(await self.get_operation(operation_id))
            if tracker.failed is not None:
                raise tracker.failure(await self.get_operation_log(operation_id))
        return tracker

    async def get_pool(self, pool_id: str) -> Pool:
        """Read a pool."""
        return Pool.model_validate(await self.request("GET", f"/pools/{pool_id}"))

    async def iter_list(self, path: str, params: dict[str, Any], page_size: int) -> AsyncIterator[dict[str, Any]]:
        """Stream a listing page by page in id order (the async twin of the sync client's)."""
        last_id: str | None = None
        while True:
            query = {**params, "sort": "id", "limit": page_size, **({"id_gt": last_id} if last_id else {})}
            page = await self.request("GET", path, params=query)
            items = page.get("items") or []
            for item in items:
                yield item
            if not page.get("has_more") or not items:
                return
            last_id = items[-1]["id"]

    async def read_pool_state(self, pool_id: str, scan_limit: int = DEFAULT_SCAN_LIMIT) -> PoolState:
        """Read what a wait for the pool needs (the async twin of ``TolokaClient.read_pool_state``)."""
        pool = await self.get_pool(pool_id)
        progress = None
        if scan_limit:
            progress = PoolProgress()
            async for _task in self.iter_list("/tasks", {"pool_id": pool_id}, 10_000):
                if not progress.add_task(scan_limit):
                    break
            async for assignment in self.iter_list("/assignments", {"pool_id": pool_id}, 10_000):
                if not progress.add_assignment(assignment, pool.reward_per_assignment, scan_limit):
                    break
        active = await self.request("GET", "/assignments", params={"pool_id": pool_id, "status": "ACTIVE", "limit": 1})
        return PoolState(pool_id, pool.status, pool.last_close_reason, bool(active.get("items")), progress)
