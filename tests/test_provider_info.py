"""Provider registration: the entry point, the metadata schema, and the providers manager."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_toloka.get_provider_info import get_provider_info


def test_entry_point_leads_to_get_provider_info():
    (entry,) = [
        e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("airflow_provider_toloka")
    ]
    assert entry.load() is get_provider_info


def test_provider_info_matches_airflows_schema_and_names_the_hook():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    (connection,) = info["connection-types"]
    assert connection["connection-type"] == "toloka"
    assert connection["hook-class-name"] == "airflow_provider_toloka.hooks.toloka.TolokaHook"
    assert set(connection["conn-fields"]) >= {"environment", "auth_scheme"}
    assert connection["conn-fields"]["environment"]["schema"]["enum"] == ["sandbox", "production"]


def test_airflow_lists_the_provider_and_its_hook(tmp_path):
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    airflow_cli = str(Path(sys.executable).with_name("airflow"))
    providers = subprocess.run([airflow_cli, "providers", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert "airflow-provider-toloka" in providers.stdout
    hooks = subprocess.run([airflow_cli, "providers", "hooks"], env=env, capture_output=True, text=True, timeout=120)
    assert "airflow_provider_toloka.hooks.toloka.TolokaHook" in hooks.stdout


def test_importing_the_operators_loads_no_http_client_or_models():
    code = (
        "import sys; import airflow_provider_toloka.operators.toloka, airflow_provider_toloka.sensors.toloka; "
        "print(sorted(m for m in ('requests', 'httpx', 'airflow_provider_toloka.client.models', "
        "'airflow_provider_toloka.hooks.toloka', 'fastapi') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    loaded = json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))
    assert "airflow_provider_toloka.client.models" not in loaded
    assert "airflow_provider_toloka.hooks.toloka" not in loaded
    assert "fastapi" not in loaded
