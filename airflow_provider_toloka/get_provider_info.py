"""Provider metadata for Airflow's providers manager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_toloka import __version__

#: The connection's extra fields (``conn-fields``: read by Airflow 3.2+, and by TolokaHook for 3.1's form).
CONN_FIELDS: dict[str, Any] = {
    "environment": {
        "label": "Environment",
        "schema": {"type": ["string", "null"], "default": "sandbox", "enum": ["sandbox", "production"]},
        "description": "sandbox (default) or production; ignored when a base URL is set",
    },
    "auth_scheme": {
        "label": "Auth scheme",
        "schema": {"type": ["string", "null"], "default": "ApiKey", "enum": ["ApiKey", "OAuth"]},
        "description": "ApiKey for an API key (default), OAuth for an OAuth token",
    },
    "connect_timeout": {
        "label": "Connect timeout (s)",
        "schema": {"type": ["number", "null"], "default": 10},
    },
    "read_timeout": {
        "label": "Read timeout (s)",
        "schema": {"type": ["number", "null"], "default": 120},
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "login"],
    "relabeling": {"password": "API key or OAuth token", "host": "Base URL override"},
    "placeholders": {
        "password": "your Toloka API key",
        "host": "empty for the environment's URL, or e.g. http://127.0.0.1:8765 for the emulator",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider: its hook, modules and the ``toloka`` connection form."""
    modules = "airflow_provider_toloka.{}.toloka"
    return {
        "package-name": "airflow-provider-toloka",
        "name": "Toloka",
        "description": "Run crowdsourced labeling on Toloka as steps of Airflow DAGs.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "Toloka", "external-doc-url": "https://toloka.ai/docs/api/", "tags": ["service"]}
        ],
        "hooks": [{"integration-name": "Toloka", "python-modules": [modules.format("hooks")]}],
        "operators": [
            {
                "integration-name": "Toloka",
                "python-modules": [modules.format("operators"), "airflow_provider_toloka.operators.results"],
            }
        ],
        "sensors": [{"integration-name": "Toloka", "python-modules": [modules.format("sensors")]}],
        "triggers": [{"integration-name": "Toloka", "python-modules": [modules.format("triggers")]}],
        "extra-links": ["airflow_provider_toloka.links.toloka.TolokaLink"],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_toloka.hooks.toloka.TolokaHook",
                "hook-name": "Toloka",
                "connection-type": "toloka",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
