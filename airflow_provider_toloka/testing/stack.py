"""A throw-away local Airflow 3 stack: api-server, scheduler, dag-processor and triggerer as processes.

What users run, unlike ``airflow dags test``: runs triggered through the REST API or the CLI (with
or without a logical date), the scheduler and the LocalExecutor, and deferred tasks resumed by a
real triggerer. Everything lives in its own AIRFLOW_HOME (SQLite metadata DB) and the API server
listens on 127.0.0.1 only::

    with AirflowStack("dags_examples", env={"AIRFLOW_CONN_TOLOKA_DEFAULT": conn}) as stack:
        run = stack.trigger("toloka_shoes_quickstart", conf={"n_tasks": 10})
        outcome = stack.wait_for_run("toloka_shoes_quickstart", run["dag_run_id"], timeout=120)
        assert outcome.state == "success" and "deferred" in outcome.seen("wait_for_upload")

The command line ``python -m airflow_provider_toloka.testing.stack --ui`` (``scripts/demo.sh --ui``)
starts it with the example DAGs and the Toloka emulator, for a person to click through.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.metadata
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple

import httpx

log = logging.getLogger(__name__)

#: The long-running Airflow components, each started as ``airflow <name>``.
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: Extra arguments: no log servers (they listen on every interface, on fixed ports); the API server
#: reads the task logs from the shared log folder.
_COMPONENT_ARGS = {"scheduler": ("--skip-serve-logs",), "triggerer": ("--skip-serve-logs",)}
#: States a DAG run ends in.
FINAL_RUN_STATES = frozenset({"success", "failed"})
#: The components ``/api/v2/monitor/health`` reports on (besides the metadata DB).
_HEALTH_KEYS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
_POLL_SECONDS = 0.25
#: SQLite connection options of every component (read through ``[database] sql_alchemy_connect_args``):
#: with several processes writing, a writer waits for the lock instead of failing after sqlite's 5 s.
SQLITE_CONNECT_ARGS: dict[str, Any] = {"timeout": 120}
_CONNECT_ARGS_PATH = "airflow_provider_toloka.testing.stack.SQLITE_CONNECT_ARGS"
#: Task instances changed this long before the previous sample started are fetched again (clock and commit lag).
_SAMPLE_OVERLAP = timedelta(seconds=3)


class TaskStates(NamedTuple):
    """The task instances' states of a run at one moment.

    :param at: seconds since the wait started.
    :param states: task id (``task_id[map_index]`` for mapped ones) -> state (None: not scheduled yet).
    """

    at: float
    states: dict[str, str | None]


class RunOutcome(NamedTuple):
    """How a run ended, and its task instances' states sampled while it ran.

    :param state: the run's final state (``success``/``failed``), or its state at the timeout.
    :param history: the samples, oldest first; consecutive identical samples are kept once.
    """

    state: str
    history: list[TaskStates]

    def seen(self, task_id: str) -> list[str | None]:
        """The states ``task_id`` went through, in order, without repeats."""
        states: list[str | None] = []
        for sample in self.history:
            state = sample.states.get(task_id)
            if task_id in sample.states and (not states or states[-1] != state):
                states.append(state)
        return states


def _ti_key(ti: dict[str, Any]) -> str:
    return ti["task_id"] if ti.get("map_index", -1) == -1 else f"{ti['task_id']}[{ti['map_index']}]"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _is_inherited_airflow_setting(name: str) -> bool:
    return name == "AIRFLOW_HOME" or name.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))


def _might_contain_dag(path: Path) -> bool:
    """Airflow's safe-mode test: the file mentions both ``airflow`` and ``dag``."""
    content = path.read_bytes().lower()
    return b"airflow" in content and b"dag" in content


def _database_template() -> Path | None:
    """Where the migrated SQLite DB of the installed Airflow version is cached (None: unknown version)."""
    try:
        version = importlib.metadata.version("apache-airflow-core")
    except importlib.metadata.PackageNotFoundError:
        try:
            version = importlib.metadata.version("apache-airflow")
        except importlib.metadata.PackageNotFoundError:
            return None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "airflow-provider-toloka" / f"airflow-{version}-metadata.db"


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


#: Tries of a trigger POST that a busy API server did not answer within ``TRIGGER_TIMEOUT`` seconds.
TRIGGER_ATTEMPTS = 3
#: Longer than a writer's wait for the SQLite lock (``SQLITE_CONNECT_ARGS``), so that one slow commit is waited out.
TRIGGER_TIMEOUT = 150.0
#: Loaded by the API server at start (``PYTHONPATH``): SIGUSR2 makes it print every thread's stack to its log,
#: which ``diagnostics()`` asks for when it does not answer.
_STACK_DUMPER = (
    "import faulthandler, signal, sys\n"
    "faulthandler.register(signal.SIGUSR2, file=sys.stderr, all_threads=True, chain=False)\n"
)


class AirflowStack:
    """A local Airflow 3 stack in its own AIRFLOW_HOME, on 127.0.0.1 and a free port.

    The environment is hermetic: inherited ``AIRFLOW__*``, ``AIRFLOW_CONN_*`` and ``AIRFLOW_VAR_*``
    variables are dropped; ``env`` adds (or overrides) settings, e.g. ``AIRFLOW_CONN_TOLOKA_DEFAULT``.
    The executor is the LocalExecutor on a SQLite DB; the simple auth manager makes everyone admin.
    Each component runs in its own process group, with its output in ``<home>/logs/<name>.log``.

    :param dags_folder: the DAGs folder.
    :param home: AIRFLOW_HOME (default: a new temporary folder, removed by ``stop``).
    :param env: extra environment variables of every process.
    :param port: the API server's port (default: a free one).
    """

    def __init__(
        self,
        dags_folder: str | os.PathLike[str],
        home: str | os.PathLike[str] | None = None,
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.dags_folder = Path(dags_folder).resolve()
        self._own_home = home is None
        self.home = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="airflow-stack-"))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = self._environment(env or {})
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._http: httpx.Client | None = None
        self._lock = threading.RLock()
        self._stopped = False
        #: Seconds from ``start`` to: the DB ready, every component healthy, the DAG files parsed.
        self.timings: dict[str, float] = {}

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not _is_inherited_airflow_setting(name)}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": _CONNECT_ARGS_PATH,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": _CONNECT_ARGS_PATH,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": "1000",
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(16),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                # Quick to notice new files, and a killed triggerer's triggers are taken over within seconds.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
                "AIRFLOW__CORE__PARALLELISM": "8",
            }
        )
        env.update(extra)
        return env

    # -- processes -------------------------------------------------------------------------------

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "airflow", *args]

    def start(self, timeout: float = 120.0) -> AirflowStack:
        """Migrate the DB, start the components, wait until healthy and every DAG file is parsed.

        The migrated DB of this Airflow version is kept in a cache folder and copied on the next
        start instead of migrating again. ``timings`` records how long each phase took.

        :param timeout: seconds for the whole start.
        :raises RuntimeError: when a component exits or the stack is not ready in time (it is stopped).
        """
        started = time.monotonic()
        deadline = started + timeout
        self._stopped = False
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        try:
            self._prepare_database(deadline)
            self.timings["database"] = time.monotonic() - started
            for name in COMPONENTS:
                self.start_component(name)
            self.wait_until_healthy(deadline - time.monotonic())
            self.timings["healthy"] = time.monotonic() - started
            self.wait_for_dag_files(deadline - time.monotonic())
            self.timings["dags_parsed"] = time.monotonic() - started
        except BaseException:
            self.stop()
            raise
        log.info("Airflow stack at %s ready: %s", self.url, {k: round(v, 1) for k, v in self.timings.items()})
        return self

    def _prepare_database(self, deadline: float) -> None:
        """A migrated metadata DB: a copy of the cached one, else ``airflow db migrate`` (then cached)."""
        database = self.home / "airflow.db"
        # An airflow.cfg of our own, so that the components starting at once do not all write the default one.
        (self.home / "airflow.cfg").touch()
        template = _database_template()
        if template is not None and template.is_file() and not database.exists():
            shutil.copyfile(template, database)
            return
        migrated = self.cli("db", "migrate", timeout=max(1.0, deadline - time.monotonic()))
        if migrated.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrated.stdout[-3000:]}{migrated.stderr[-3000:]}")
        if template is not None and not Path(f"{database}-wal").exists():
            try:
                template.parent.mkdir(parents=True, exist_ok=True)
                partial = template.with_name(f"{template.name}.{os.getpid()}.tmp")
                shutil.copyfile(database, partial)
                os.replace(partial, template)
            except OSError as exc:  # a cache is an optimisation only
                log.debug("Not caching the migrated DB: %s", exc)

    def start_component(self, name: str) -> subprocess.Popen[bytes]:
        """Start ``airflow <name>`` (one of ``COMPONENTS``) in its own process group."""
        if name not in COMPONENTS:
            raise ValueError(f"Unknown component {name!r}; expected one of {COMPONENTS}")
        with self._lock:
            return self._start_component(name)

    def _start_component(self, name: str) -> subprocess.Popen[bytes]:
        if self._stopped:
            raise RuntimeError(f"The stack is stopped; not starting {name}")
        running = self.processes.get(name)
        if running is not None and running.poll() is None:
            raise RuntimeError(f"{name} is already running (pid {running.pid})")
        log_file = self._logs.get(name)
        if log_file is None:
            log_file = self._logs[name] = open(self.log_path(name), "ab")  # noqa: SIM115 - closed by stop()
        process = subprocess.Popen(
            self._command(name, *_COMPONENT_ARGS.get(name, ())),
            env=self._component_env(name),
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        log.info("Started airflow %s (pid %s)", name, process.pid)
        return process

    def _component_env(self, name: str) -> dict[str, str]:
        """The stack's environment; the API server's also loads the stack dumper (see ``diagnostics``)."""
        if name != "api-server":
            return self.env
        folder = self.home / "debug"
        folder.mkdir(exist_ok=True)
        (folder / "sitecustomize.py").write_text(_STACK_DUMPER, encoding="utf-8")
        paths = [str(folder), *filter(None, [self.env.get("PYTHONPATH")])]
        return {**self.env, "PYTHONPATH": os.pathsep.join(paths)}

    def diagnostics(self, lines: int = 60) -> str:
        """What a person needs when the stack does not answer: every API server thread's stack, the logs' tails."""
        api_server = self.processes.get("api-server")
        if api_server is not None and api_server.poll() is None:
            with contextlib.suppress(OSError):
                api_server.send_signal(signal.SIGUSR2)
                time.sleep(1.0)  # the dump is written by the server's own thread
        tails = [
            f"--- {name}.log (last {count} lines) ---\n{_tail(self.log_path(name), count)}"
            for name, count in (("scheduler", lines), ("dag-processor", lines // 3), ("triggerer", lines // 3))
        ]
        api_log = f"--- api-server.log (last {lines * 4} lines) ---\n{_tail(self.log_path('api-server'), lines * 4)}"
        return "\n".join([*tails, api_log])

    def stop_component(self, name: str, kill: bool = False, timeout: float = 10.0) -> int | None:
        """Stop a component's process group: SIGTERM (SIGKILL when ``kill``), SIGKILL after ``timeout``.

        :return: the exit code of the component's main process (None when it was not started).
        """
        with self._lock:
            self._stop_processes([name], signal.SIGKILL if kill else signal.SIGTERM, timeout)
        process = self.processes.get(name)
        return None if process is None else process.returncode

    def _stop_processes(self, names: Iterable[str], first: signal.Signals, timeout: float) -> None:
        """Signal ``names`` at once (SIGKILL: their whole groups), wait until ``timeout``, then SIGKILL their groups."""
        processes = {name: self.processes[name] for name in names if name in self.processes}
        for process in processes.values():
            if first == signal.SIGKILL:
                self._signal_group(process, first)
            elif process.poll() is None:
                process.send_signal(first)  # the component stops its own children (workers, trigger runner)
        deadline = time.monotonic() + timeout
        for name, process in processes.items():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("airflow %s (pid %s) did not stop within %ss; killing it", name, process.pid, timeout)
                self._signal_group(process, signal.SIGKILL)
                process.wait(timeout)
            # Children left in the group (task runners, a trigger runner) go with it.
            self._signal_group(process, signal.SIGKILL)

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every component at once (SIGTERM, SIGKILL after ``timeout``); remove a temporary home."""
        with self._lock:
            self._stopped = True
            self._stop_processes(list(self.processes), signal.SIGTERM, timeout)
        for log_file in self._logs.values():
            log_file.close()
        self._logs.clear()
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def log_path(self, name: str) -> Path:
        """The file a component writes its output to."""
        return self.home / "logs" / f"{name}.log"

    def check_alive(self) -> None:
        """Raise ``RuntimeError`` (with the end of its log) when a started component has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{_tail(self.log_path(name))}")

    def __enter__(self) -> AirflowStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- readiness -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``/api/v2/monitor/health``; raises ``httpx.HTTPError`` when the API server does not answer."""
        answer = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5)
        answer.raise_for_status()
        return answer.json()

    def wait_until_healthy(self, timeout: float) -> None:
        """Wait until the API server answers and reports every component healthy."""
        deadline = time.monotonic() + timeout
        last: Any = "no answer"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                last = self.health()
                if all((last.get(key) or {}).get("status") == "healthy" for key in _HEALTH_KEYS):
                    return
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(_POLL_SECONDS)
        raise RuntimeError(f"Airflow at {self.url} was not healthy within {timeout:.0f}s: {last}")

    def wait_for_dag_files(self, timeout: float, dag_ids: Iterable[str] = ()) -> None:
        """Wait until every DAG file of the folder is parsed (a DAG or an import error) and ``dag_ids`` exist."""
        deadline = time.monotonic() + timeout
        files = {str(path) for path in self.dags_folder.rglob("*.py") if _might_contain_dag(path)}
        wanted = set(dag_ids)
        missing: set[str] = files | wanted
        while time.monotonic() < deadline:
            self.check_alive()
            dags = self.rest("GET", "/dags", params={"limit": 1000})["dags"]
            errors = self.rest("GET", "/importErrors", params={"limit": 1000})["import_errors"]
            seen = {dag["fileloc"] for dag in dags} | {error["filename"] for error in errors}
            missing = (files - seen) | (wanted - {dag["dag_id"] for dag in dags})
            if not missing:
                return
            time.sleep(_POLL_SECONDS)
        raise RuntimeError(f"Not parsed within {timeout:.0f}s: {sorted(missing)}")

    # -- API and CLI -----------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run ``airflow ARGS`` with the stack's environment; returns the finished process (text output)."""
        return subprocess.run(
            self._command(*args),
            env=self.env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def token(self) -> str:
        """A JWT of the simple auth manager (every user is admin: ``GET /auth/token`` needs no credentials)."""
        answer = httpx.get(f"{self.url}/auth/token", timeout=10)
        answer.raise_for_status()
        return answer.json()["access_token"]

    @property
    def http(self) -> httpx.Client:
        """An authenticated client of the public REST API (``/api/v2``)."""
        if self._http is None:
            self._http = httpx.Client(
                base_url=f"{self.url}/api/v2", headers={"Authorization": f"Bearer {self.token()}"}, timeout=30
            )
        return self._http

    def rest(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        """Call the public REST API, e.g. ``rest("GET", "/dags")``; returns the answer's JSON (None if empty).

        :raises RuntimeError: on an error status, with the answer's text.
        """
        try:
            answer = self.http.request(method, path, json=json, **kwargs)
        except httpx.TimeoutException as exc:
            raise RuntimeError(f"{method} /api/v2{path}: no answer in time\n{self.diagnostics()}") from exc
        if answer.is_error:
            raise RuntimeError(f"{method} /api/v2{path} -> {answer.status_code}: {answer.text[:2000]}")
        return answer.json() if answer.content else None

    def trigger(
        self,
        dag_id: str,
        conf: dict[str, Any] | None = None,
        logical_date: datetime | str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Trigger a run through the REST API; returns the new run (``dag_run_id``, ``logical_date``...).

        :param logical_date: None sends ``"logical_date": null`` (a run without a logical date, as the
            UI does by default); a datetime or ISO string sets it.
        """
        if isinstance(logical_date, datetime):
            logical_date = logical_date.isoformat()
        # an explicit run id makes the POST safe to repeat when a busy API server does not answer in time
        run_id = run_id or f"manual__{uuid.uuid4().hex[:12]}"
        body: dict[str, Any] = {"logical_date": logical_date, "conf": conf or {}, "dag_run_id": run_id}
        for attempt in range(1, TRIGGER_ATTEMPTS + 1):
            try:
                answer = self.http.post(f"/dags/{dag_id}/dagRuns", json=body, timeout=TRIGGER_TIMEOUT)
            except httpx.TimeoutException as exc:
                log.warning("POST dagRuns of %s: no answer in %ss (try %s)", dag_id, TRIGGER_TIMEOUT, attempt)
                if attempt == TRIGGER_ATTEMPTS:
                    raise RuntimeError(f"POST dagRuns of {dag_id}: no answer\n{self.diagnostics()}") from exc
                continue
            if answer.status_code == 409 and attempt > 1:  # the unanswered attempt created it
                return self.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            if answer.is_error:
                raise RuntimeError(f"POST /api/v2/dags/{dag_id}/dagRuns -> {answer.status_code}: {answer.text[:2000]}")
            return answer.json()
        raise AssertionError("unreachable")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """Task id (``task_id[map_index]`` for mapped ones) -> state, for one run."""
        answer = self.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        return {_ti_key(ti): ti["state"] for ti in answer["task_instances"]}

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        """The run's state (``queued``, ``running``, ``success``, ``failed``)."""
        return self.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180.0, interval: float = 0.5) -> RunOutcome:
        """Wait until the run succeeds or fails, sampling its task instances' states every ``interval`` s.

        :return: the final state (or the state at the timeout) and the samples.
        """
        start = time.monotonic()
        history: list[TaskStates] = []
        state = None
        while True:
            state = self.run_state(dag_id, run_id)
            states = self.task_states(dag_id, run_id)
            if not history or history[-1].states != states:
                history.append(TaskStates(round(time.monotonic() - start, 2), states))
            if state in FINAL_RUN_STATES or time.monotonic() - start > timeout:
                return RunOutcome(str(state), history)
            time.sleep(interval)


class StateRecorder:
    """Samples every run and task instance of a stack in a background thread (two requests a sample).

    Cheaper than one ``wait_for_run`` per run when many runs go at once, and it also sees runs that
    the scheduler creates (scheduled, backfill)::

        with StateRecorder(stack) as recorder:
            run = stack.trigger("my_dag")
            outcome = recorder.outcome("my_dag", run["dag_run_id"], timeout=120)

    :param stack: the stack to watch.
    :param interval: seconds between samples.
    """

    def __init__(self, stack: AirflowStack, interval: float = 0.5) -> None:
        self.stack = stack
        self.interval = interval
        self.histories: dict[tuple[str, str], list[TaskStates]] = {}
        self.run_states: dict[tuple[str, str], str] = {}
        self.errors = 0
        self.samples = 0
        self.sample_seconds = 0.0
        self._changed_since: datetime | None = None
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="airflow-state-recorder", daemon=True)
        self._start = time.monotonic()

    def start(self) -> StateRecorder:
        """Start sampling."""
        self._start = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (bounded)."""
        self._stopping.set()
        self._thread.join(10)

    def __enter__(self) -> StateRecorder:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sample()
            except (httpx.HTTPError, RuntimeError) as exc:  # the API server may be briefly busy
                self.errors += 1
                log.debug("State sample failed: %s", exc)
            self._stopping.wait(self.interval)

    def sample(self) -> None:
        """Take one sample: every run, and the task instances changed since shortly before the last sample."""
        started = datetime.now(timezone.utc)
        runs = self.stack.rest("GET", "/dags/~/dagRuns", params={"limit": 1000})["dag_runs"]
        params: dict[str, Any] = {"limit": 1000}
        if self._changed_since is not None:
            params["updated_at_gte"] = self._changed_since.isoformat()
        tis = self.stack.rest("GET", "/dags/~/dagRuns/~/taskInstances", params=params)["task_instances"]
        self._changed_since = started - _SAMPLE_OVERLAP
        at = round(time.monotonic() - self._start, 2)
        changed: dict[tuple[str, str], dict[str, str | None]] = {}
        for ti in tis:
            changed.setdefault((ti["dag_id"], ti["dag_run_id"]), {})[_ti_key(ti)] = ti["state"]
        with self._changed:
            self.samples += 1
            self.sample_seconds += (datetime.now(timezone.utc) - started).total_seconds()
            for run in runs:
                key = (run["dag_id"], run["dag_run_id"])
                self.run_states[key] = run["state"]
                history = self.histories.setdefault(key, [])
                current = {**(history[-1].states if history else {}), **changed.get(key, {})}
                if not history or history[-1].states != current:
                    history.append(TaskStates(at, current))
            self._changed.notify_all()

    def wait_until(self, condition: Any, timeout: float) -> bool:
        """Wait until ``condition(recorder)`` is true after a sample; returns whether it became true."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return bool(condition(self))
                self._changed.wait(min(remaining, 1.0))
        return True

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        """The task's state in the latest sample (None when unknown)."""
        history = self.histories.get((dag_id, run_id))
        return history[-1].states.get(task_id) if history else None

    def outcome(self, dag_id: str, run_id: str, timeout: float) -> RunOutcome:
        """Wait until the run ends; returns its final state (or the state at the timeout) and its samples."""
        key = (dag_id, run_id)
        self.wait_until(lambda recorder: recorder.run_states.get(key) in FINAL_RUN_STATES, timeout)
        with self._changed:
            return RunOutcome(str(self.run_states.get(key)), list(self.histories.get(key, [])))


#: The repository's example DAGs (the ``--ui`` stack's DAGs folder).
EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "dags_examples"
#: The API key of the ``--ui`` stack's ``toloka_default`` connection (the emulator takes any key).
DEMO_API_KEY = "demo-api-key"


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _prepare_daily_example(stack: AirflowStack, emulator_url: str, data_dir: Path) -> None:
    """What ``toloka_daily_batch`` needs: a project (Variable ``toloka_project_id``) and today's tasks file."""
    from airflow_provider_toloka.client.client import TolokaClient
    from airflow_provider_toloka.client.config import ClientConfig

    project_config = json.loads((EXAMPLE_DAGS / "toloka_shoes" / "project.json").read_text(encoding="utf-8"))
    client = TolokaClient(ClientConfig(token=DEMO_API_KEY, base_url=emulator_url))
    try:
        project = client.create_project(project_config)
    finally:
        client.close()
    stack.rest("POST", "/variables", json={"key": "toloka_project_id", "value": str(project.id)})
    data_dir.mkdir(parents=True, exist_ok=True)
    day = datetime.now(timezone.utc).date().isoformat()
    rows = (json.dumps({"image": f"https://example.com/shoes/{day}/{i}.jpg"}) for i in range(50))
    (data_dir / f"{day}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


def run_ui(port: int | None, operation_delay: float, lifetime: float | None) -> int:
    """Start the emulator and the stack with the example DAGs; serve until SIGINT/SIGTERM (or ``lifetime``)."""
    from airflow_provider_toloka.testing.process import EmulatorProcess

    _stop_on_sigterm()
    emulator = EmulatorProcess(operation_delay=operation_delay)
    stack: AirflowStack | None = None
    try:
        emulator.start()
        print(f"Toloka emulator at {emulator.url} (operations take {operation_delay:g}s)", flush=True)
        stack = AirflowStack(EXAMPLE_DAGS, port=port)
        print(f"Starting Airflow in {stack.home} (about 30s)...", flush=True)
        started = time.monotonic()
        stack.start(timeout=300)
        connection = {"connection_id": "toloka_default", "conn_type": "toloka", "host": emulator.url}
        stack.rest("POST", "/connections", json={**connection, "password": DEMO_API_KEY})
        data_dir = stack.home / "toloka-data"
        _prepare_daily_example(stack, emulator.url, data_dir)
        print(
            f"\nAirflow is ready after {time.monotonic() - started:.0f}s: {stack.url}  (everyone is admin)\n"
            f"  DAGs: {EXAMPLE_DAGS}; connection toloka_default -> the emulator\n"
            "  Trigger toloka_shoes_quickstart; wait_for_upload is deferred while the upload runs.\n"
            f"  toloka_daily_batch: trigger it with data_dir = {data_dir} (today's file is there; the project\n"
            "  comes from the toloka_project_id Variable).\n"
            f"  Component logs: {stack.home / 'logs'}\n"
            f"Stop: Ctrl-C, or kill {os.getpid()}",
            flush=True,
        )
        deadline = None if lifetime is None else time.monotonic() + lifetime
        while deadline is None or time.monotonic() < deadline:
            stack.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
    except RuntimeError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if stack is not None:
            stack.stop()
        emulator.stop()
    print("Stopped.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m airflow_provider_toloka.testing.stack --ui [--port N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_toloka.testing.stack",
        description="A throw-away local Airflow 3 stack with the example DAGs and the Toloka emulator.",
    )
    parser.add_argument("--ui", action="store_true", help="start it for a person to click through (required)")
    parser.add_argument("--port", type=int, default=None, help="port of the Airflow UI/API (default: a free one)")
    parser.add_argument("--operation-delay", type=float, default=5.0, help="seconds an emulated operation takes")
    parser.add_argument("--lifetime", type=float, default=None, help="stop by itself after this many seconds")
    args = parser.parse_args(argv)
    if not args.ui:
        parser.error("nothing to do: pass --ui")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_ui(args.port, args.operation_delay, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
