"""The extra link's address for each environment."""

from __future__ import annotations

import pytest

from airflow_provider_toloka.links.toloka import web_url


@pytest.mark.parametrize(
    ("api", "pool", "expected"),
    [
        ("https://sandbox.toloka.dev", "7", "https://sandbox.toloka.ai/requester/project/3/pool/7"),
        ("https://toloka.dev", "7", "https://platform.toloka.ai/requester/project/3/pool/7"),
        ("https://toloka.dev", None, "https://platform.toloka.ai/requester/project/3"),
        ("http://127.0.0.1:8765", "7", "http://127.0.0.1:8765/requester/project/3/pool/7"),
    ],
)
def test_web_url(api, pool, expected):
    assert web_url(api, "3", pool) == expected
