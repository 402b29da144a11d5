"""The pytest plugin, as a user's test suite sees it: pytester runs small test files that use it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from quickstart import SHOES_PROJECT

# Airflow is imported here, not first inside an in-process pytester run: it imports importlib_metadata,
# which removes the stdlib's distribution finder for good and installs its own, and pytester's
# restore of sys.meta_path would then leave no finder at all for the runs that follow.
import airflow_provider_toloka.hooks.toloka  # noqa: F401
from airflow_provider_toloka.testing import EmulatorConfig, TolokaEmulator

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"

#: A user's test module: the hook through ``toloka_connection``, a fresh emulator per test, the session one.
USER_TESTS = f"""
import pytest
from airflow_provider_toloka.hooks.toloka import TolokaHook

PROJECT = {SHOES_PROJECT!r}
seen_urls = []


def test_hook_reaches_the_emulator(toloka_emulator, toloka_connection):
    assert (toloka_connection.conn_id, toloka_connection.url) == ("toloka_default", toloka_emulator.url)
    project = TolokaHook().client.create_project(PROJECT)
    assert list(toloka_emulator.state.projects) == [project.id]
    seen_urls.append(toloka_emulator.url)


def test_each_test_gets_a_fresh_emulator(toloka_emulator, toloka_connection):
    assert toloka_emulator.state.projects == {{}}
    assert toloka_emulator.url not in seen_urls


@pytest.mark.toloka_connection(conn_id="my_toloka")
def test_another_connection_id(toloka_connection):
    assert toloka_connection.env_var == "AIRFLOW_CONN_MY_TOLOKA"
    assert TolokaHook("my_toloka").client.get_requester()["id"]


def test_session_emulator_is_shared(toloka_emulator_session):
    seen_urls.append(toloka_emulator_session.url)


def test_session_emulator_is_shared_again(toloka_emulator_session):
    assert seen_urls.count(toloka_emulator_session.url) == 1
"""


def test_a_user_suite_runs_against_the_emulator_in_a_fresh_process(pytester: pytest.Pytester) -> None:
    """The entry point loads the plugin in a new interpreter; the connection goes away after each test."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=180)
    result.assert_outcomes(passed=5)
    assert "AIRFLOW_CONN_TOLOKA_DEFAULT" not in os.environ


def test_an_operator_runs_against_the_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        from airflow_provider_toloka.operators.toloka import TolokaCreateProjectOperator

        class TaskInstance:
            dag_id, task_id, run_id, map_index = "dag", "create_project", "run_1", -1

            def xcom_push(self, key, value):
                pass

        def test_operator(toloka_emulator, toloka_connection):
            operator = TolokaCreateProjectOperator(task_id="create_project", project_config={SHOES_PROJECT!r})
            project_id = operator.execute({{"ti": TaskInstance(), "dag": None}})
            assert toloka_emulator.state.projects[project_id]["public_name"] == {SHOES_PROJECT["public_name"]!r}
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_markers_set_the_emulator_and_the_connection(pytester: pytest.Pytester) -> None:
    """fail_rate takes effect; the closest marker wins per option; connection extras reach the client."""
    pytester.makepyfile(
        """
        import pytest
        from airflow_provider_toloka.client.errors import TolokaNetworkError, TolokaServerError
        from airflow_provider_toloka.hooks.toloka import TolokaHook

        pytestmark = pytest.mark.toloka_emulator(operation_delay=0, fail_rate=0.5)


        @pytest.mark.toloka_emulator(fail_rate=1.0, seed=1)
        @pytest.mark.toloka_connection(max_attempts=2, backoff_base=0.01)
        def test_every_request_fails(toloka_emulator, toloka_connection):
            config = toloka_emulator.config
            assert (config.operation_delay, config.fail_rate, config.seed) == (0, 1.0, 1)
            with pytest.raises((TolokaNetworkError, TolokaServerError)):
                TolokaHook().client.get_requester()
            assert sum(toloka_emulator.fault_counts.values()) == 2


        @pytest.mark.toloka_emulator(fail_rate=0.0)
        def test_no_faults(toloka_emulator, toloka_connection):
            assert TolokaHook().client.get_requester()["id"]
            assert sum(toloka_emulator.fault_counts.values()) == 0
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_options_fixture_sets_suite_defaults(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def toloka_emulator_options():
            return {"token": "suite-token", "operation_delay": 0}
        """
    )
    pytester.makepyfile(
        """
        import requests

        def test_defaults(toloka_emulator, toloka_emulator_session, toloka_connection):
            assert toloka_connection.token == toloka_emulator.token == toloka_emulator_session.token == "suite-token"
            assert toloka_emulator_session.config.operation_delay == 0
            wrong = requests.get(toloka_emulator.api_url + "/requester", headers={"Authorization": "OAuth x"})
            assert wrong.status_code == 401
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_an_unknown_option_errors_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.toloka_emulator(fail_rat=0.1)
        def test_typo(toloka_emulator):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unexpected keyword argument 'fail_rat'*"])


def test_markers_are_registered_and_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    markers = pytester.runpytest_subprocess("--markers", "--strict-markers", timeout=120)
    markers.stdout.fnmatch_lines(["@pytest.mark.toloka_emulator(**options)*", "@pytest.mark.toloka_connection(*"])
    pytester.runpytest_subprocess("-p", "no:toloka", "--strict-markers", timeout=120).assert_outcomes(passed=1)


def test_importing_the_plugin_loads_neither_airflow_nor_the_server() -> None:
    code = (
        "import sys, airflow_provider_toloka.testing.pytest_plugin\n"
        "heavy = ('airflow', 'fastapi', 'uvicorn', 'starlette', 'requests', 'httpx', 'pydantic')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []


def test_emulator_takes_a_config_and_options_over_it() -> None:
    base = EmulatorConfig(token="t", fail_rate=0.5)
    assert TolokaEmulator(base, seed=3).config == EmulatorConfig(token="t", fail_rate=0.5, seed=3)
    assert TolokaEmulator(operation_delay=0).config == EmulatorConfig(operation_delay=0)
    assert TolokaEmulator().token is None
    with pytest.raises(TypeError, match="fail_rat"):
        TolokaEmulator(fail_rat=0.1)


@pytest.mark.system
def test_the_readme_example_runs_a_users_dag(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's "Testing your own DAGs" example, verbatim, with a DAG in a dags folder and a migrated database."""
    section = README.read_text(encoding="utf-8").split("## Testing your own DAGs", 1)[1]
    example = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert example, "no python example in the README section"
    dags = pytester.mkpydir("my_dags")
    (dags / "shoes.py").write_text(
        "from airflow.sdk import DAG\n"
        "from airflow_provider_toloka.operators.toloka import TolokaCreateProjectOperator\n\n"
        'with DAG("shoes", schedule=None) as dag:\n'
        f'    TolokaCreateProjectOperator(task_id="create_project", project_config={SHOES_PROJECT!r})\n'
    )
    pytester.makepyfile(test_my_dag=example.group(1))
    home = tmp_path / "airflow-home"
    env = {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    airflow_cli = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow_cli, "db", "migrate"], capture_output=True, check=True, timeout=300)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300).assert_outcomes(passed=1)
