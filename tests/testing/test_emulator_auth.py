"""Authentication and the error format."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import TOKEN

from airflow_provider_toloka.testing import TolokaEmulator


@pytest.mark.parametrize("scheme", ["OAuth", "ApiKey"])
def test_both_schemes_accepted(toloka_emulator: TolokaEmulator, scheme: str) -> None:
    response = requests.get(
        f"{toloka_emulator.api_url}/requester", headers={"Authorization": f"{scheme} {TOKEN}"}, timeout=10
    )
    assert response.status_code == 200
    assert set(response.json()) >= {"id", "balance", "public_name", "company"}


@pytest.mark.parametrize(
    "header",
    [None, f"Bearer {TOKEN}", "OAuth ", "ApiKey", f"OAuth {TOKEN}x", "OAuth wrong"],
)
def test_bad_credentials_are_401(toloka_emulator: TolokaEmulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = requests.post(f"{toloka_emulator.api_url}/projects", json={}, headers=headers, timeout=10)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "AUTHENTICATION_ERROR"
    assert set(body) == {"request_id", "code", "message"}  # payload is optional, left out when empty
    assert body["request_id"]


def test_any_token_when_none_configured() -> None:
    with TolokaEmulator() as emulator:
        ok = requests.get(f"{emulator.api_url}/requester", headers={"Authorization": "OAuth anything"}, timeout=10)
        missing = requests.get(f"{emulator.api_url}/requester", timeout=10)
        malformed = [
            requests.get(f"{emulator.api_url}/requester", headers={"Authorization": header}, timeout=10).status_code
            for header in ("Bearer anything", "OAuth ", "ApiKey", "anything")
        ]
    assert ok.status_code == 200
    assert missing.status_code == 401
    assert malformed == [401] * 4


def test_unknown_route_is_json_404(api) -> None:
    response = api.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "DOES_NOT_EXIST"
