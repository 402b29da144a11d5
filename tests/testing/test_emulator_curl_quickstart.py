"""The curl commands of the Toloka quickstarts run unchanged against the emulator.

The documents are vendored in ``data/`` (copies of the public quickstarts); only the host and the
``{project_id}``, ``{pool_id}`` and ``{close_date}`` placeholders are replaced, as the documents ask.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from airflow_provider_toloka.testing import TolokaEmulator

DATA = Path(__file__).parent / "data"
SANDBOX = "https://sandbox.toloka.dev"
#: ``curl -X METHOD 'url'`` then ``\``-continued ``-H '...'`` / ``-d '...'`` options.
CURL = re.compile(r"curl -X [A-Z]+ '[^']*'(?:[ \t]*\\\n\s*-[Hd] '[^']*')*")
CLOSE_DATE = "2030-01-01T00:00:00"

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def curl_commands(document: str) -> list[str]:
    return CURL.findall((DATA / document).read_text())


def run_curl(command: str) -> tuple[int, str]:
    """Run one command with bash; returns the status code and the body curl printed."""
    completed = subprocess.run(
        ["bash", "-c", command + " -sS -w '\\n%{http_code}'"], capture_output=True, text=True, timeout=30, check=True
    )
    body, _, status = completed.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.parametrize(
    ("document", "scheme"),
    [("posting-tasks-quickstart-apikey.txt", "ApiKey"), ("posting-tasks-quickstart-oauth.md", "OAuth")],
)
def test_quickstart_curl_commands(document: str, scheme: str) -> None:
    commands = curl_commands(document)
    assert len(commands) == 4, commands
    assert all(f"Authorization: {scheme} " in command for command in commands)
    with TolokaEmulator(operation_delay=0.05) as emulator:
        create_project, create_pool, upload_tasks, open_pool = (c.replace(SANDBOX, emulator.url) for c in commands)

        status, body = run_curl(create_project)
        project = json.loads(body)
        assert status == 201
        assert project["id"].isdigit()
        assert project["public_name"] == "Categories of shoes"
        assert project["public_description"] == "Look at the picture and determine the category of shoes"

        status, body = run_curl(create_pool.replace("{project_id}", project["id"]).replace("{close_date}", CLOSE_DATE))
        pool = json.loads(body)
        assert status == 201
        assert (pool["project_id"], pool["private_name"]) == (project["id"], "Shoes pool 1")
        assert pool["defaults"] == {"default_overlap_for_new_task_suites": 3}

        status, body = run_curl(upload_tasks.replace("{pool_id}", pool["id"]))
        tasks = json.loads(body)
        assert status == 201
        assert sorted(tasks["items"]) == ["0", "1", "2"]
        assert [tasks["items"][str(i)]["input_values"]["image"] for i in range(3)] == [
            f"https://example.com/image_{n}.jpg" for n in (1, 2, 3)
        ]
        assert {t["overlap"] for t in tasks["items"].values()} == {2}
        assert tasks["validation_errors"] == {}

        status, body = run_curl(open_pool.replace("{pool_id}", pool["id"]))
        operation = json.loads(body)
        assert status == 202
        assert operation["type"] == "POOL.OPEN"
        time.sleep(0.1)
        assert emulator.state.get_pool(pool["id"])["status"] == "OPEN"
        assert emulator.state.task_count(pool["id"]) == 3
