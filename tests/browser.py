"""A real headless Chromium (Debian's, through its chromedriver) for the console's tests,
and the few moves every page test makes: open a page, click and wait for the next one,
read the text a person sees."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import require_tool

PHONE = (390, 844)  # a commune officer's phone, in CSS pixels
DESKTOP = (1280, 900)
LOAD_TIMEOUT_S = 30


@contextmanager
def chromium(profile: Path, size: tuple[int, int] = DESKTOP) -> Iterator[object]:
    """A Chromium that reaches only loopback, with its own profile folder."""
    binary = require_tool("chromium", "chromium")
    driver_path = require_tool("chromedriver", "chromium-driver")
    os.environ["SE_OFFLINE"] = "true"  # Selenium must not look for drivers on the network
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=vi",
        "--hide-scrollbars",
        f"--window-size={max(size[0], 500)},{size[1]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if size[0] < 500:  # below a desktop window's least width: a phone, emulated as Chromium does
        metrics = {"width": size[0], "height": size[1], "pixelRatio": 2, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(LOAD_TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def body_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def click_and_load(driver, element, confirm: str | None = None) -> None:
    """Clicks a link or a form's button and returns once the next page has loaded: Selenium's
    click does not wait for the navigation it starts, and the old page's elements go stale
    under whoever reads them meanwhile. With `confirm`, the page must first ask a question
    containing it, which is answered yes (as an officer would)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")

    def old_page_gone(_driver) -> bool:
        try:
            old.is_enabled()
        except WebDriverException:  # stale; mid-navigation chromedriver may say "does not
            return True  # belong to the document" instead, which means the same
        return False

    element.click()
    if confirm is not None:
        asked = WebDriverWait(driver, LOAD_TIMEOUT_S).until(lambda d: d.switch_to.alert)
        assert confirm in asked.text, asked.text
        asked.accept()
    wait = WebDriverWait(driver, LOAD_TIMEOUT_S, ignored_exceptions=(WebDriverException,))
    wait.until(old_page_gone)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def click_id(driver, ident: str, confirm: str | None = None) -> None:
    from selenium.webdriver.common.by import By

    click_and_load(driver, driver.find_element(By.ID, ident), confirm)


def click_and_cancel(driver, ident: str, question: str) -> None:
    """Clicks a button that must ask first, and answers no: nothing may happen."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = driver.current_url
    driver.find_element(By.ID, ident).click()
    asked = WebDriverWait(driver, LOAD_TIMEOUT_S).until(lambda d: d.switch_to.alert)
    assert question in asked.text, asked.text
    asked.dismiss()
    assert driver.current_url == url


def log_in(driver, base_url: str, name: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base_url + "/")
    assert "Đăng nhập" in driver.title
    driver.find_element(By.ID, "id_username").send_keys(name)
    driver.find_element(By.ID, "id_password").send_keys(password)
    click_id(driver, "login")


def log_out(driver) -> None:
    from selenium.webdriver.common.by import By

    click_and_load(driver, driver.find_element(By.XPATH, "//button[contains(., 'Đăng xuất')]"))
    assert "Đăng nhập" in driver.title, driver.title  # back at the login page
