"""Every bad input a DAG author can give, run for real, with the error they get; the README's table is made from it.

Each case runs against the emulator and must fail before any side effect, with a message that
names what to fix. The README section between the ``bad-inputs`` markers is generated from these
cases, so it cannot drift: when a message changes, rerun with ``TOLOKA_UPDATE_README=1`` to rewrite it.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow_context import make_context
from quickstart import SHOES_PROJECT

from airflow_provider_toloka.hooks.toloka import TolokaHook
from airflow_provider_toloka.operators.toloka import (
    TolokaCreatePoolOperator,
    TolokaCreateProjectOperator,
    TolokaCreateTasksOperator,
    TolokaOpenPoolOperator,
)
from airflow_provider_toloka.sensors.toloka import TolokaOperationSensor

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"
IMAGE = {"image": "https://example.com/a.jpg"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cases:
    """Builds and runs each case in a scratch folder, against a pool of the session emulator."""

    def __init__(self, folder: Path, pool_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder, self.pool_id, self.monkeypatch = folder, pool_id, monkeypatch

    def file(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text)
        return str(path)

    def connection(self, **fields: Any) -> str:
        self.monkeypatch.setenv("AIRFLOW_CONN_TOLOKA_CASE", json.dumps({"conn_type": "toloka", **fields}))
        return "toloka_case"

    def upload(self, **arguments: Any) -> Any:
        arguments = {"pool_id": self.pool_id, "tasks": [IMAGE], **arguments}
        return TolokaCreateTasksOperator(task_id="upload", **arguments).execute(make_context())

    def pool(self, **arguments: Any) -> Any:
        config = {"private_name": "p", "reward_per_assignment": 0.02, "assignment_max_duration_seconds": 60}
        arguments = {"pool_config": {**config, "project_id": "1"}, **arguments}
        return TolokaCreatePoolOperator(task_id="pool", **arguments).execute(make_context())


#: (what the user did, how to run it). Order is the README's.
CASES: list[tuple[str, Callable[[Cases], Any]]] = [
    (
        "project without `public_name`",
        lambda c: TolokaCreateProjectOperator(
            task_id="p", project_config={k: v for k, v in SHOES_PROJECT.items() if k != "public_name"}
        ).execute(make_context()),
    ),
    (
        "`project_config` file that does not exist",
        lambda c: TolokaCreateProjectOperator(task_id="p", project_config="shoes/project.json").execute(make_context()),
    ),
    (
        "`project_config` a JSON array",
        lambda c: TolokaCreateProjectOperator(task_id="p", project_config="[{}]").execute(make_context()),
    ),
    ("`pool_config` that is not valid JSON", lambda c: c.pool(pool_config='{"private_name": ')),
    ('`will_expire="next week"`', lambda c: c.pool(will_expire="next week")),
    ("`will_expire` in the past", lambda c: c.pool(will_expire="2020-01-01T00:00:00")),
    ("`project_id` empty (an upstream task returned nothing)", lambda c: c.pool(project_id="None")),
    ("`pool_id=None` from an upstream task", lambda c: c.upload(pool_id=None)),
    ("tasks file that does not exist", lambda c: c.upload(tasks=str(c.folder / "missing.jsonl"))),
    ("tasks file of another format", lambda c: c.upload(tasks=c.file("tasks.csv", "image\n"))),
    (
        "a task whose field is not in the input_spec",
        lambda c: c.upload(
            tasks=c.file(
                "fields.jsonl", json.dumps(IMAGE) + "\n" + '{"image": "https://example.com/2.jpg", "size": 1}\n'
            )
        ),
    ),
    (
        "a task whose value has the wrong type",
        lambda c: c.upload(tasks=[IMAGE, IMAGE, {"image": 42}]),
    ),
    (
        "a task whose url field holds no absolute URL",
        lambda c: c.upload(tasks=[IMAGE, {"image": "example.com/a.jpg"}]),
    ),
    (
        "one task over the API's 1 MiB request limit",
        lambda c: c.upload(tasks=[IMAGE, {"image": "https://example.com/" + "x" * 1_100_000}]),
    ),
    ("a .jsonl line that is not JSON", lambda c: c.upload(tasks=c.file("broken.jsonl", '{"image": oops}\n'))),
    ("an empty tasks file", lambda c: c.upload(tasks=c.file("empty.jsonl", "\n"))),
    ('`batch_size="abc"`', lambda c: c.upload(batch_size="abc")),
    ("`batch_size=200000`", lambda c: c.upload(batch_size=200_000)),
    ('`default_overlap="abc"`', lambda c: c.upload(default_overlap="abc")),
    ("`default_overlap=0`", lambda c: c.upload(default_overlap=0)),
    (
        "sensor given an empty list of operations",
        lambda c: TolokaOperationSensor(task_id="s", operation_ids=[], deferrable=False).execute(make_context()),
    ),
    (
        "sensor given an operation that does not exist",
        lambda c: TolokaOperationSensor(
            task_id="s", operation_ids="4a4f1d4e-0000-4000-8000-000000000000", deferrable=False
        ).execute(make_context()),
    ),
    ("open a pool that does not exist", lambda c: TolokaOpenPoolOperator(task_id="o", pool_id="999999").execute({})),
    ("open a pool with no tasks", lambda c: TolokaOpenPoolOperator(task_id="o", pool_id=c.pool_id).execute({})),
    ("connection without a key", lambda c: TolokaHook(c.connection(host="http://127.0.0.1:1")).client),
    (
        "a key with a line break inside it",
        lambda c: TolokaHook(c.connection(password="abc\ndef", host="http://127.0.0.1:1")).client,
    ),
    (
        "plain `http://` to another host",
        lambda c: TolokaHook(c.connection(password="k", host="http://toloka.example.com")).client,
    ),
    (
        "unknown `environment`",
        lambda c: TolokaHook(c.connection(password="k", extra={"environment": "staging"})).client,
    ),
    (
        "extra `max_attempts=0`",
        lambda c: TolokaHook(c.connection(password="k", extra={"max_attempts": 0})).client,
    ),
    (
        "a host where nothing listens",
        lambda c: TolokaHook(
            c.connection(password="k", host=f"http://127.0.0.1:{_free_port()}", extra={"max_attempts": 1})
        ).client.get_requester(),
    ),
]


def normalize(message: str, folder: Path, pool_id: str) -> str:
    """The message with what changes from run to run (folders, ports, ids) replaced."""
    message = message.replace(str(folder), "<dir>")
    message = re.sub(rf"\b(pools/|Pool ){pool_id}\b", r"\g<1><id>", message)
    message = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", message)
    message = re.sub(r" ?\[request_id=[^\]]*\]", "", message)
    return message.replace("|", "\\|").replace("\n", " ")


def outcome(exc: BaseException) -> tuple[str, str]:
    """How the task ends ("fails at once" or "retried") and the error as the task log shows it."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_toloka.client.errors import is_permanent

    final = isinstance(exc, AirflowFailException) or is_permanent(exc)
    text = str(exc) if isinstance(exc, AirflowFailException) else f"{type(exc).__name__}: {exc}"
    return ("fails at once" if final else "retried by Airflow"), text


@pytest.fixture
def cases(tmp_path: Path, pool_id: str, toloka_conn: str, monkeypatch: pytest.MonkeyPatch) -> Cases:
    return Cases(tmp_path, pool_id, monkeypatch)


def test_every_bad_input_fails_before_any_side_effect_with_a_clear_message(cases: Cases, client, emulator) -> None:
    rows = []
    before = (len(emulator.state.projects), len(emulator.state.pools))
    for what, run in CASES:
        with pytest.raises(Exception) as caught:
            run(cases)
        how, message = outcome(caught.value)
        assert message and "Traceback" not in message, what
        rows.append(f"| {what} | {how} | {normalize(message, cases.folder, cases.pool_id)} |")
    assert (len(emulator.state.projects), len(emulator.state.pools)) == before
    assert emulator.state.task_count(cases.pool_id) == 0
    table = "\n".join(["| input | the task | the error in the task log |", "| --- | --- | --- |", *rows])
    text = README.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    if os.environ.get("TOLOKA_UPDATE_README") == "1":
        README.write_text(text[:start] + "\n" + table + "\n" + text[end:])
        return
    assert text[start:end].strip() == table, "README's bad-input table is stale: rerun with TOLOKA_UPDATE_README=1"
