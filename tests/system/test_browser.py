"""The Airflow UI as a user clicks it, in headless Chromium driven by selenium.

On a real stack (``AirflowStack``: api-server, scheduler, dag-processor, triggerer) with the emulator:
the Toloka connection is created through Admin > Connections (no ``AIRFLOW_CONN_*`` variable),
``toloka_shoes_quickstart`` is triggered from its form with changed params, the run's success is read
off the grid, and the task's "Toloka" extra link opens the pool's page.

Screenshots of every step go to ``.artifacts/screenshots/airflow-<version>/`` (gitignored; the path is
printed), so that the runs on two Airflow versions keep theirs. With
``TOLOKA_UPDATE_README_SCREENSHOTS=1`` the two the README shows are refreshed in
``tests/system/screenshots/``.

The UI of Airflow 3.1 (checked on 3.1.0) marks its elements differently from 3.2+'s (checked on 3.3.2):
``UI`` holds the selectors of the installed version; the steps and what they check are the same.

Chromium and its driver are Debian packages: missing ones are installed with ``apt-get`` (as root, or
through passwordless sudo); the test is skipped, saying why, only where that cannot be done.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging.version import Version
from quickstart import QUICKSTART_TASK_IDS

from airflow_provider_toloka.testing import TolokaEmulator
from airflow_provider_toloka.testing.stack import AirflowStack

pytestmark = pytest.mark.system

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from selenium.common.exceptions import (  # noqa: E402
    ElementClickInterceptedException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags_examples"
README_SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
#: Step screenshot -> the file the README shows.
README_FILES = {"connection-form": "connection-form.png", "run-success-grid": "run-success-grid.png"}

DAG_ID = "toloka_shoes_quickstart"
RUN_ID = "browser_test_run"
TOKEN = "browser-test-key-5d2e"
N_TASKS, OVERLAP = 30, 2
TASK_IDS = QUICKSTART_TASK_IDS

DEBIAN_PACKAGES = ("chromium", "chromium-driver")
APT_TIMEOUTS = {"update": 300, "install": 600}
#: Seconds to wait for an element, for the run to end, for a page to load.
UI_WAIT, RUN_WAIT, PAGE_LOAD = 30, 150, 30


@dataclass(frozen=True)
class UiSelectors:
    """Where the steps find things in one Airflow UI (XPaths unless said otherwise).

    :param admin_menu: the sidebar's Admin button.
    :param connection_cell: the connections list's cell showing ``{conn_id}``.
    :param trigger_submit: the Trigger form's submit button (relative to the dialog).
    :param run_state_badge: the run page header's state badge.
    :param grid_cell_attribute: the attribute of a grid cell link holding ``grid-<run id>-<task id>``.
    :param react_select: whether the connection form's dropdowns are react-select (else Ark selects).
    """

    admin_menu: str
    connection_cell: str
    trigger_submit: str
    run_state_badge: str
    grid_cell_attribute: str
    react_select: bool


UI_3_2 = UiSelectors(
    admin_menu="//*[@data-testid='nav-sidebar']//button[@aria-label='Admin']",
    connection_cell="//td[@data-testid='table-cell-connection_id' and normalize-space()='{conn_id}']",
    trigger_submit=".//*[@data-testid='trigger-dag-submit']",
    run_state_badge="//*[@data-testid='header-card']//*[@data-testid='state-badge']",
    grid_cell_attribute="data-testid",
    react_select=True,
)
#: Airflow 3.1 has few data-testid attributes: the header badge is found next to its Clear Dag Run button.
UI_3_1 = UiSelectors(
    admin_menu="//button[@aria-haspopup='menu' and normalize-space()='Admin']",
    connection_cell="//table[@data-testid='table-list']//td[normalize-space()='{conn_id}']",
    trigger_submit=".//button[normalize-space()='Trigger']",
    run_state_badge=(
        "//button[@aria-label='Clear Dag Run']/ancestor::div[.//h2][1]//span[contains(@class, 'chakra-badge')]"
    ),
    grid_cell_attribute="id",
    react_select=False,
)
AIRFLOW_VERSION = Version(importlib.metadata.version("apache-airflow-core"))
UI = UI_3_1 if AIRFLOW_VERSION.release < (3, 2) else UI_3_2
ARTIFACTS = REPO / ".artifacts" / "screenshots" / f"airflow-{AIRFLOW_VERSION}"


# -- Chromium from Debian packages -----------------------------------------------------------------


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    """``apt-get ARGS``, non-interactive and bounded; through ``sudo -n`` when not root."""
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return subprocess.run(
        [*sudo, "apt-get", *args],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=APT_TIMEOUTS[args[0]],
    )


def _chromium_paths() -> tuple[str | None, str | None]:
    return shutil.which("chromium"), shutil.which("chromedriver")


def chromium_and_driver() -> tuple[str, str]:
    """Paths of ``chromium`` and ``chromedriver``, installing the Debian packages when missing.

    Skips the test, with the reason, where they cannot be installed.
    """
    browser, driver = _chromium_paths()
    if browser and driver:
        return browser, driver
    wanted = " and ".join(DEBIAN_PACKAGES)
    if shutil.which("apt-get") is None:
        pytest.skip(f"chromium/chromedriver are missing and there is no apt-get to install {wanted}")
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        pytest.skip(f"chromium/chromedriver are missing; installing {wanted} needs root or sudo")
    for args in (("update", "-q"), ("install", "-y", "-q", "--no-install-recommends", *DEBIAN_PACKAGES)):
        try:
            done = _apt_get(*args)
        except subprocess.TimeoutExpired:
            pytest.skip(f"apt-get {args[0]} did not finish within {APT_TIMEOUTS[args[0]]}s")
        if done.returncode != 0:
            pytest.skip(f"apt-get {' '.join(args)} failed ({done.returncode}): {(done.stderr or done.stdout)[-800:]}")
    browser, driver = _chromium_paths()
    if not (browser and driver):
        pytest.skip(f"{wanted} were installed but chromium={browser}, chromedriver={driver}")
    return browser, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium with the Debian chromedriver (no driver download)."""
    binary, driver_path = chromium_and_driver()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    driver.set_page_load_timeout(PAGE_LOAD)
    try:
        yield driver
    finally:
        driver.quit()


# -- the stack -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[TolokaEmulator]:
    """The emulator, accepting only ``TOKEN``: the run succeeds only with the key typed into the form."""
    with TolokaEmulator(token=TOKEN, operation_delay=3, simulate_tolokers=True, seed=5) as running:
        yield running


@pytest.fixture(scope="module")
def stack(browser: WebDriver, emulator: TolokaEmulator) -> Iterator[AirflowStack]:
    """Airflow with the example DAGs and no Toloka connection (the form creates it)."""
    with AirflowStack(DAGS) as running:
        yield running


class Screenshots:
    """Numbered screenshots of the steps in ``folder``."""

    def __init__(self, driver: WebDriver, folder: Path) -> None:
        self.driver, self.folder = driver, folder
        self.taken: dict[str, Path] = {}
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def take(self, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot {path}"
        self.taken[name] = path
        return path

    def publish_for_readme(self) -> None:
        """Copy the README's screenshots to ``tests/system/screenshots/`` when asked to."""
        if os.environ.get("TOLOKA_UPDATE_README_SCREENSHOTS") == "1":
            for step, file_name in README_FILES.items():
                shutil.copyfile(self.taken[step], README_SCREENSHOTS / file_name)


@pytest.fixture
def screenshots(browser: WebDriver, capsys: pytest.CaptureFixture[str]) -> Iterator[Screenshots]:
    shots = Screenshots(browser, ARTIFACTS)
    with capsys.disabled():
        print(f"\nbrowser test screenshots: {ARTIFACTS}")
    return shots


# -- UI helpers ------------------------------------------------------------------------------------


#: Errors a condition is retried after: the element is not there yet, re-rendered, or covered for a moment.
RETRIED = (NoSuchElementException, StaleElementReferenceException, ElementClickInterceptedException)


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any], seconds: float = UI_WAIT, what: str = "") -> Any:
    """Wait until ``condition`` returns a true value (``RETRIED`` errors meanwhile are retried)."""
    return WebDriverWait(driver, seconds, 0.2, ignored_exceptions=RETRIED).until(condition, what)


def clickable(driver: WebDriver, xpath: str) -> WebElement:
    return wait(driver, EC.element_to_be_clickable((By.XPATH, xpath)), what=f"clickable {xpath}")


def click(driver: WebDriver, xpath: str) -> WebElement:
    """Click the element once it is clickable (retried while the page re-renders or covers it)."""

    def clicked(d: WebDriver) -> WebElement | bool:
        element = EC.element_to_be_clickable((By.XPATH, xpath))(d)
        if element:
            element.click()
        return element

    return wait(driver, clicked, what=f"click {xpath}")


def visible(driver: WebDriver, css: str) -> WebElement:
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), what=f"visible {css}")


def open_dialog(driver: WebDriver) -> WebElement:
    """The open modal dialog (popovers are dialogs too, but not modal)."""
    return visible(driver, "[role=dialog][aria-modal=true]")


def choose(driver: WebDriver, field: str, option: str) -> list[str]:
    """Open the dropdown of the form's extra field ``field``, click ``option``; returns the options it offered.

    Checks that the field then holds ``option``.
    """
    if UI.react_select:
        opener = f"//*[@id='element_{field}']//input[@role='combobox']"
        options = "//*[starts-with(@id, 'react-select') and @role='option']"
    else:
        opener = f"//*[@id='select:element_{field}:trigger']"
        options = f"//*[@id='select:element_{field}:content']//*[@role='option']"

    def opened(d: WebDriver) -> bool:
        """Click the opener until the options show (a click while the accordion above opens may be lost)."""
        if any(element.is_displayed() for element in d.find_elements(By.XPATH, options)):
            return True
        element = EC.element_to_be_clickable((By.XPATH, opener))(d)
        if element and element.get_attribute("aria-expanded") != "true":
            element.click()
        return False

    wait(driver, opened, what=f"the options of {field}")
    offered = [element.text for element in driver.find_elements(By.XPATH, options)]
    assert option in offered, f"{option!r} not among {offered}"
    click(driver, f"{options}[normalize-space()='{option}']")

    def chosen(d: WebDriver) -> bool:
        if UI.react_select:
            return d.find_element(By.NAME, f"element_{field}").get_attribute("value") == option
        return d.find_element(By.XPATH, opener).text == option

    wait(driver, chosen, what=f"{field} = {option}")
    return offered


def type_number(field: WebElement, value: int) -> None:
    """Replace a number input's value as a user does (select all, type, leave the field)."""
    field.click()
    field.send_keys(webdriver.Keys.CONTROL, "a")
    field.send_keys(str(value), webdriver.Keys.TAB)


# -- the steps -------------------------------------------------------------------------------------


def create_connection(driver: WebDriver, stack: AirflowStack, emulator: TolokaEmulator, shots: Screenshots) -> None:
    """Admin > Connections > Add Connection: type Toloka, host, masked key, both dropdowns; save."""
    driver.get(stack.url)
    click(driver, UI.admin_menu)
    click(driver, "//a[@role='menuitem' and @aria-label='Connections']")
    click(driver, "//button[normalize-space()='Add Connection']")
    dialog = open_dialog(driver)
    dialog.find_element(By.NAME, "connection_id").send_keys("toloka_default")
    connection_type = dialog.find_element(By.CSS_SELECTOR, "input[role=combobox]")
    connection_type.send_keys("Toloka")
    click(driver, "//*[@role='option' and normalize-space()='Toloka']")

    visible(driver, "input[name=host]").send_keys(emulator.url)
    key = dialog.find_element(By.NAME, "password")
    key.send_keys(TOKEN)
    assert key.get_attribute("type") == "password"
    assert TOKEN not in dialog.text
    for hidden in ("login", "schema", "port"):
        assert not dialog.find_elements(By.NAME, hidden), f"{hidden} should be hidden for Toloka"
    shots.take("connection-form")

    dialog.find_element(By.XPATH, ".//button[normalize-space()='Extra Fields']").click()
    assert choose(driver, "environment", "sandbox") == ["sandbox", "production"]
    assert choose(driver, "auth_scheme", "OAuth") == ["ApiKey", "OAuth"]
    shots.take("connection-extra-fields")

    dialog.find_element(By.XPATH, ".//button[normalize-space()='Save']").click()
    clickable(driver, UI.connection_cell.format(conn_id="toloka_default"))
    shots.take("connections-list")

    saved = stack.rest("GET", "/connections/toloka_default")
    assert (saved["conn_type"], saved["host"], saved["password"]) == ("toloka", emulator.url, "***")
    assert json.loads(saved["extra"]) == {
        "environment": "sandbox",
        "auth_scheme": "OAuth",
        "connect_timeout": 10,
        "read_timeout": 120,
    }


def trigger_from_form(driver: WebDriver, stack: AirflowStack, shots: Screenshots) -> None:
    """The DAG's Trigger form: change n_tasks and overlap, name the run, trigger."""
    driver.get(f"{stack.url}/dags/{DAG_ID}")
    visible(driver, "button[aria-label='Trigger Dag']").click()
    dialog = open_dialog(driver)
    type_number(dialog.find_element(By.NAME, "element_n_tasks"), N_TASKS)
    type_number(dialog.find_element(By.NAME, "element_overlap"), OVERLAP)
    assert dialog.find_element(By.NAME, "element_tasks_file").get_attribute("value") == ""
    dialog.find_element(By.XPATH, ".//button[normalize-space()='Advanced Options']").click()
    visible(driver, "input[name=dagRunId]").send_keys(RUN_ID)
    submit = dialog.find_element(By.XPATH, UI.trigger_submit)
    assert submit.is_enabled(), "the trigger form does not accept its own params"
    shots.take("trigger-form")
    submit.click()
    wait(driver, EC.url_contains(f"/runs/{RUN_ID}"), what="the run's page after Trigger")


def wait_for_success_in_grid(driver: WebDriver, stack: AirflowStack, shots: Screenshots) -> None:
    """The run's page (grid on the left) until its state badge says Success; the grid has every task."""

    def final_state(d: WebDriver) -> str | None:
        badges = d.find_elements(By.XPATH, UI.run_state_badge)
        text = badges[0].text.strip() if badges else ""
        return text if text in ("Success", "Failed") else None

    try:
        state = wait(driver, final_state, RUN_WAIT, what="the run's end")
    except TimeoutException:
        shots.take("run-timeout")
        raise AssertionError(f"no final state in {RUN_WAIT}s: {stack.task_states(DAG_ID, RUN_ID)}") from None
    shots.take("run-success-grid" if state == "Success" else "run-failed-grid")
    assert state == "Success", stack.task_states(DAG_ID, RUN_ID)
    cells = driver.find_elements(By.CSS_SELECTOR, f"a[{UI.grid_cell_attribute}^='grid-{RUN_ID}-']")
    shown = sorted(cell.get_attribute(UI.grid_cell_attribute).removeprefix(f"grid-{RUN_ID}-") for cell in cells)
    assert shown == sorted(TASK_IDS)
    assert stack.task_states(DAG_ID, RUN_ID) == dict.fromkeys(TASK_IDS, "success")
    conf = stack.rest("GET", f"/dags/{DAG_ID}/dagRuns/{RUN_ID}")["conf"]
    assert (conf["n_tasks"], conf["overlap"]) == (N_TASKS, OVERLAP)


def the_pool(emulator: TolokaEmulator) -> dict[str, Any]:
    """The only pool in the emulator, with its tasks (through the emulator's API)."""
    with httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"ApiKey {TOKEN}"}, timeout=10) as api:
        pools = api.get("/pools").raise_for_status().json()["items"]
        assert len(pools) == 1, pools
        tasks = api.get("/tasks", params={"pool_id": pools[0]["id"], "limit": 100}).raise_for_status().json()
    return {**pools[0], "tasks": tasks["items"]}


def open_extra_link(driver: WebDriver, stack: AirflowStack, emulator: TolokaEmulator, shots: Screenshots) -> None:
    """open_pool's Details tab, its "Toloka" extra link, and the pool's page it opens."""
    pool = the_pool(emulator)
    # labeled to the end by the emulator's simulated tolokers
    assert (pool["status"], pool.get("last_close_reason"), len(pool["tasks"])) == ("CLOSED", "COMPLETED", N_TASKS)
    assert {task["overlap"] for task in pool["tasks"]} == {OVERLAP}
    expected = f"{emulator.url}/requester/project/{pool['project_id']}/pool/{pool['id']}"

    driver.get(f"{stack.url}/dags/{DAG_ID}/runs/{RUN_ID}")
    click(driver, f"//a[@{UI.grid_cell_attribute}='grid-{RUN_ID}-open_pool']")
    click(driver, "//a[normalize-space()='Details']")
    link = "//a[normalize-space()='Toloka']"
    assert wait(driver, lambda d: d.find_element(By.XPATH, link).get_attribute("href"), what="the link") == expected
    shots.take("task-details-extra-link")

    airflow_tab = driver.current_window_handle
    click(driver, link)
    wait(driver, lambda d: len(d.window_handles) == 2, what="the extra link's tab")
    driver.switch_to.window(next(handle for handle in driver.window_handles if handle != airflow_tab))
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete", what="the pool's page")
    assert driver.current_url == expected
    shots.take("toloka-pool-page")
    page = driver.find_element(By.TAG_NAME, "body").text
    for shown in (
        re.escape(pool["private_name"]),
        rf"Pool id\s+{pool['id']}\b",
        r"\bCLOSED\b",
        rf"\bTasks\s+{N_TASKS}\b",
    ):
        assert re.search(shown, page), f"{shown!r} not on the pool's page: {page[:1000]}"


def test_connection_trigger_grid_and_extra_link_in_the_browser(
    browser: WebDriver, stack: AirflowStack, emulator: TolokaEmulator, screenshots: Screenshots
) -> None:
    started = time.monotonic()
    try:
        create_connection(browser, stack, emulator, screenshots)
        trigger_from_form(browser, stack, screenshots)
        wait_for_success_in_grid(browser, stack, screenshots)
        screenshots.publish_for_readme()
        open_extra_link(browser, stack, emulator, screenshots)
    except Exception:
        screenshots.take("failure")
        raise
    finally:
        print(f"browser steps took {time.monotonic() - started:.1f}s; screenshots: {sorted(screenshots.taken)}")
