"""Real Chromium (Debian's `chromium` + `chromium-driver`) driven by Selenium, headless.

Selenium blocks; the console runs in the test's event loop, so every browser step runs in a
worker thread (`asyncio.to_thread`) and the loop keeps serving the pages meanwhile."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), ""
)


def require_chromium() -> None:
    """Skip with the reason when Chromium is missing here; in CI it must be there."""
    if CHROMEDRIVER.exists() and CHROMIUM:
        return
    why = "Chromium is not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}: CI must run the browser tests (.ci/run installs them)")
    pytest.skip(why)


class Browser:
    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1360,900",
            "--hide-scrollbars",
        ):
            options.add_argument(arg)
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self.driver.set_page_load_timeout(30)

    async def get(self, url: str) -> None:
        await asyncio.to_thread(self.driver.get, url)

    async def text(self, css: str = "body") -> str:
        from selenium.webdriver.common.by import By

        return await asyncio.to_thread(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text)

    async def count(self, css: str) -> int:
        from selenium.webdriver.common.by import By

        return await asyncio.to_thread(lambda: len(self.driver.find_elements(By.CSS_SELECTOR, css)))

    async def script(self, code: str) -> Any:
        return await asyncio.to_thread(self.driver.execute_script, code)

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    async def submit(self, css: str) -> str:
        """Press a form's button and wait for the page it leads to; that page's flash text."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def press() -> str:
            old = self.driver.find_element(By.TAG_NAME, "html")
            self.driver.find_element(By.CSS_SELECTOR, css).click()

            def left(driver: Any) -> bool:
                try:
                    old.is_enabled()
                except WebDriverException:  # stale, or mid-navigation "node does not belong
                    return True  # to the document": either way the old page is gone
                return False

            def loaded(driver: Any) -> bool:
                return bool(driver.execute_script("return document.readyState") == "complete")

            WebDriverWait(self.driver, 20).until(left)
            WebDriverWait(self.driver, 20).until(loaded)
            found = self.driver.find_elements(By.ID, "flash")
            return found[0].text if found else ""

        return await asyncio.to_thread(press)

    async def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)

        def shoot() -> None:
            height = self.driver.execute_script("return document.body.scrollHeight")
            self.driver.set_window_size(1360, max(700, min(int(height) + 40, 2400)))
            self.driver.save_screenshot(str(path))
            self.driver.set_window_size(1360, 900)

        await asyncio.to_thread(shoot)

    def quit(self) -> None:
        self.driver.quit()


def have_chromium() -> bool:
    return CHROMEDRIVER.exists() and bool(CHROMIUM) and shutil.which(CHROMIUM) is not None
