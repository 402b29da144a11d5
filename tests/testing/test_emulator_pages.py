"""The emulator's read-only HTML pages at the web UI's addresses (project, pool, operation), over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from emulator_helpers import TOKEN, Api, task

from airflow_provider_toloka.testing import TolokaEmulator

#: Seconds an operation takes: long enough to see it unfinished right after submitting it.
OPERATION_DELAY = 1.0


class Page(HTMLParser):
    """What a test reads from a page: its text, links, progress bars and the tags it holds."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__()
        self.status = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.html = response.text
        self.words: list[str] = []
        self.links: dict[str, str] = {}
        self.progress: list[int] = []
        self.tags: set[str] = set()
        self.urls: list[str] = []
        self._href: str | None = None
        self.feed(response.text)
        self.text = " ".join(self.words)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.tags.add(tag)
        self.urls += [value or "" for name, value in attrs if name in ("href", "src")]
        if tag == "a":
            self._href = named.get("href")
        if named.get("role") == "progressbar":
            self.progress.append(int(named["aria-valuenow"] or -1))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if self.lasttag in ("style", "title"):
            return
        words = data.split()
        self.words += words
        if self._href is not None and words:
            self.links[" ".join(words)] = self._href


@pytest.fixture
def emulator() -> Iterator[TolokaEmulator]:
    """An emulator whose operations take OPERATION_DELAY seconds."""
    with TolokaEmulator(token=TOKEN, operation_delay=OPERATION_DELAY) as running:
        yield running


@pytest.fixture
def api(emulator: TolokaEmulator) -> Api:
    return Api(emulator.api_url)


def open_page(emulator: TolokaEmulator, path: str) -> Page:
    """GET a page with no Authorization header; a well-formed page with no scripts or outside assets."""
    page = Page(requests.get(emulator.url + path, timeout=10))
    assert page.content_type.startswith("text/html")
    assert page.html.startswith("<!DOCTYPE html>")
    assert "script" not in page.tags
    assert all(url.startswith("/requester/") for url in page.urls), page.urls
    return page


def finished(api: Api, operation_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The operation once it has finished (polled, bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        operation = api.get(f"/operations/{operation_id}").json()
        if operation["status"] in ("SUCCESS", "FAIL"):
            return operation
        assert time.monotonic() < deadline, operation
        time.sleep(0.05)


def test_project_page_lists_its_pools(emulator: TolokaEmulator, api: Api) -> None:
    project_id = api.project()
    first = api.pool(project_id, private_name="Boots")
    second = api.pool(project_id, private_name="Sneakers")
    api.pool()  # another project's pool
    api.create("/tasks", [task(first), task(first)])

    page = open_page(emulator, f"/requester/project/{project_id}")

    assert page.status == 200
    assert "Categories of shoes" in page.text
    assert "ACTIVE" in page.text
    assert "Pools (2)" in page.text
    assert page.links[first] == f"/requester/project/{project_id}/pool/{first}"
    assert page.links[second] == f"/requester/project/{project_id}/pool/{second}"
    assert f"{first} Boots CLOSED 2 {second} Sneakers CLOSED 0" in page.text
    for path in (page.links[first], page.links[second]):
        assert open_page(emulator, path).status == 200


def test_pages_need_no_token_unlike_the_api(emulator: TolokaEmulator, api: Api) -> None:
    project_id = api.project()
    assert requests.get(f"{emulator.api_url}/projects/{project_id}", timeout=10).status_code == 401
    assert open_page(emulator, f"/requester/project/{project_id}").status == 200


def test_pool_page_shows_counts_and_completed_tasks(emulator: TolokaEmulator, api: Api) -> None:
    project_id = api.project()
    pool_id = api.pool(project_id, private_name="Shoes pool 1")
    api.create("/tasks", [task(pool_id, f"https://example.com/{n}.jpg") for n in range(4)])
    tasks = api.get("/tasks", params={"pool_id": pool_id}).json()["items"]
    for one_task, status in zip(tasks, ("ACCEPTED", "SUBMITTED", "ACTIVE", "REJECTED"), strict=True):
        emulator.state.add_assignment(pool_id, [one_task], status=status)
    emulator.state.add_assignment(pool_id, [tasks[0]], status="SUBMITTED")  # a second answer: still one task

    page = open_page(emulator, f"/requester/project/{project_id}/pool/{pool_id}")

    assert page.status == 200
    assert "Shoes pool 1" in page.text
    assert "Status CLOSED" in page.text
    assert page.links["Categories of shoes"] == f"/requester/project/{project_id}"
    assert "Tasks 4" in page.text
    assert "Assignments active 1 Assignments submitted 2 Assignments accepted 1 Assignments rejected 1" in page.text
    assert page.progress == [50]
    assert "2 of 4 tasks completed" in page.text


def test_pool_page_of_an_empty_pool(emulator: TolokaEmulator, api: Api) -> None:
    project_id = api.project()
    pool_id = api.pool(project_id)
    page = open_page(emulator, f"/requester/project/{project_id}/pool/{pool_id}")
    assert page.progress == [0]
    assert "0 of 0 tasks completed" in page.text


def test_operation_page_follows_an_upload(emulator: TolokaEmulator, api: Api) -> None:
    project_id = api.project()
    pool_id = api.pool(project_id)
    body = [task(pool_id), task(pool_id, "https://example.com/2.jpg"), task(pool_id, image=5)]
    submitted = api.post("/tasks", json=body, params={"async_mode": "true", "skip_invalid_items": "true"})
    operation_id = submitted.json()["id"]
    path = f"/requester/operation/{operation_id}"

    running = open_page(emulator, path)
    assert running.status == 200
    assert "TASK.BATCH_CREATE" in running.text
    assert "PENDING" in running.text or "RUNNING" in running.text
    assert running.progress[0] < 100
    assert "Finished" not in running.text

    finished(api, operation_id)
    done = open_page(emulator, path)
    assert "Status SUCCESS" in done.text
    assert "total_count 3" in done.text
    assert done.progress == [100]
    assert "100% done" in done.text
    assert "Submitted" in done.text and "Finished" in done.text
    assert "total_count 3 valid_count 2 not_valid_count 1 success_count 2 failed_count 1" in done.text
    assert "skip_invalid_items True" in done.text
    pool_path = f"/requester/project/{project_id}/pool/{pool_id}"
    assert done.links[f"Pool {pool_id}"] == pool_path
    assert "Tasks 2" in open_page(emulator, pool_path).text


def test_operation_page_of_a_failed_upload(emulator: TolokaEmulator, api: Api) -> None:
    pool_id = api.pool()
    submitted = api.post("/tasks", json=[task(pool_id), task(pool_id, image=5)], params={"async_mode": "true"})
    operation_id = submitted.json()["id"]
    finished(api, operation_id)
    page = open_page(emulator, f"/requester/operation/{operation_id}")
    assert "Status FAIL" in page.text
    assert "not_valid_count 1" in page.text
    assert f"Pool {pool_id}" in page.links


def test_operation_page_of_a_pool_action_links_its_pool(emulator: TolokaEmulator, api: Api) -> None:
    project_id = api.project()
    pool_id = api.pool(project_id)
    api.create("/tasks", [task(pool_id)])
    operation_id = api.post(f"/pools/{pool_id}/open").json()["id"]

    page = open_page(emulator, f"/requester/operation/{operation_id}")

    assert "POOL.OPEN" in page.text
    assert page.links[f"Pool {pool_id}"] == f"/requester/project/{project_id}/pool/{pool_id}"
    finished(api, operation_id)
    assert "Status OPEN" in open_page(emulator, page.links[f"Pool {pool_id}"]).text


def test_values_are_escaped(emulator: TolokaEmulator, api: Api) -> None:
    name = "<script>alert('x')</script> & \"friends\""
    project_id = api.project(public_name=name, public_description="<b>bold</b>")
    pool_id = api.pool(project_id, private_name="<img src=x onerror=alert(1)>")

    project = open_page(emulator, f"/requester/project/{project_id}")
    pool = open_page(emulator, f"/requester/project/{project_id}/pool/{pool_id}")

    assert "<script>" not in project.html and "<b>bold" not in project.html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;friends&quot;" in project.html
    assert name in project.text  # shown as text
    assert "<img" not in pool.html
    assert "<img src=x onerror=alert(1)>" in pool.text


@pytest.mark.parametrize(
    "path",
    [
        "/requester/project/999",
        "/requester/project/999/pool/1",
        "/requester/operation/4b1a52b6-4c3b-4f4e-9d36-2f0ef7d0a000",
    ],
)
def test_unknown_ids_get_a_404_page(emulator: TolokaEmulator, path: str) -> None:
    page = open_page(emulator, path)
    assert page.status == 404
    assert "Not found" in page.text
    assert "does not exist" in page.text


def test_pool_under_another_project_is_not_found(emulator: TolokaEmulator, api: Api) -> None:
    pool_id = api.pool()
    other_project = api.project()
    page = open_page(emulator, f"/requester/project/{other_project}/pool/{pool_id}")
    assert page.status == 404
    assert f"Pool {pool_id} is not in project {other_project}" in page.text
