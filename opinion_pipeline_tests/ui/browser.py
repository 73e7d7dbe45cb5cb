"""Headless Chromium for the UI tests: Debian's chromium and chromedriver, never a download.

Selenium is given both binaries explicitly, so its driver manager has nothing to look up (and
SE_OFFLINE makes sure it never tries). When the browser is missing, the tests skip with the way
to install it, except in CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 1400, 900
MAX_PNG_BYTES = 300_000
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_ENV = "UPDATE_SCREENSHOTS"
INSTALL_HINT = (
    "run scripts/setup-env as root (it installs Debian's chromium and chromium-driver), or "
    "`sudo apt-get install chromium chromium-driver`, and `pip install -e .[dev]` for selenium"
)
# The flags Debian's chromium needs here: no sandbox as root, no GPU, no network of its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
)


def missing_browser() -> str | None:
    """Why the browser test cannot run here, or None."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    return f"missing {', '.join(missing)}" if missing else None


def require_browser() -> None:
    """Skip (or, under CI=true, fail) when the browser or its driver is missing."""
    reason = missing_browser()
    if reason is None:
        return
    message = f"headless Chromium test: {reason}; {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


class Browser:
    """A Chromium session with the few waits and actions the UI tests need."""

    def __init__(self, profile_dir: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager: never download
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )

    def quit(self) -> None:
        self.driver.quit()

    def open(self, url: str) -> None:
        self.driver.get(url)

    def text(self) -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.TAG_NAME, "body").text

    def wait(self, predicate: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = predicate()
            except Exception:  # the page is re-rendering under us: try again
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"page never showed {what}; it shows:\n{self.text()[:2000]}")
            time.sleep(0.25)

    def wait_text(self, *texts: str, timeout_s: float = 30.0) -> str:
        """Wait until every text is on the page; returns the page text."""
        return self.wait(
            lambda: (body := self.text()) and all(t in body for t in texts) and body,
            " and ".join(repr(t) for t in texts),
            timeout_s,
        )

    def buttons(self, label: str) -> list[Any]:
        """Buttons whose visible text is ``label`` (skipping any the page just re-rendered)."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By

        found = []
        for button in self.driver.find_elements(By.TAG_NAME, "button"):
            try:
                if button.text.strip() == label:
                    found.append(button)
            except WebDriverException:
                continue
        return found

    def icon_button(self, icon: str) -> Any:
        """The button that shows a Dagster icon (``role=img`` with that aria-label)."""
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.XPATH, f"//button[.//*[@aria-label='{icon}']]")

    def dismiss_welcome(self, timeout_s: float = 5.0) -> None:
        """A first visit shows "Join the Dagster community" (once per browser); a user skips it."""
        if self.driver.execute_script("return window.localStorage.getItem('communityNux')"):
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:  # it opens a moment after the page
            if self._skip_clicked():
                self.wait(lambda: not self.buttons("Skip"), "the welcome dialog to close", 10.0)
                return
            time.sleep(0.25)

    def _skip_clicked(self) -> bool:
        from selenium.common.exceptions import WebDriverException

        for button in self.buttons("Skip"):
            try:
                button.click()
                return True
            except WebDriverException:
                return False
        return False

    def press(self, *keys: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        chain = ActionChains(self.driver)
        for key in keys[:-1]:
            chain.key_down(key)
        chain.send_keys(keys[-1])
        for key in reversed(keys[:-1]):
            chain.key_up(key)
        chain.perform()

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(path)), f"no screenshot written to {path}"
        return path


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


class Screenshots:
    """Screenshots go to a temp dir; with UPDATE_SCREENSHOTS=1 also to docs/screenshots."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, browser: Browser, name: str) -> Path:
        path = browser.screenshot(self.folder / name)
        assert png_size(path) == (WIDTH, HEIGHT), png_size(path)
        size = path.stat().st_size
        assert 10_000 < size < MAX_PNG_BYTES, f"{name}: {size} bytes"
        if os.environ.get(UPDATE_ENV) == "1":
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, SCREENSHOT_DIR / name)
        return path


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require_browser()
    with tempfile.TemporaryDirectory(prefix="ui-chromium-") as profile:
        session = Browser(Path(profile))
        try:
            yield session
        finally:
            session.quit()


@pytest.fixture(scope="package")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    return Screenshots(tmp_path_factory.mktemp("screenshots"))
