"""Keeps the login across runs: cookies saved to a file after logging in once, restored into
every new browser. Ordinary Selenium code, unchanged by the migration."""

import json
import os
from typing import Any

import config
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def _log_in(driver: Any) -> None:
    driver.get(config.BASE_URL + "/login-form.html")
    driver.find_element(By.NAME, "user").send_keys(config.USERNAME)
    driver.find_element(By.NAME, "password").send_keys(config.PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(EC.url_contains("/account"))
    with open(config.SESSION_FILE, "w") as file:
        json.dump(driver.get_cookies(), file)


def login_if_needed(driver: Any) -> None:
    """Restores the saved session, or logs in and saves it."""
    if not os.path.exists(config.SESSION_FILE):
        _log_in(driver)
        return
    driver.get(config.BASE_URL + "/")
    with open(config.SESSION_FILE) as file:
        for cookie in json.load(file):
            driver.add_cookie({"name": cookie["name"], "value": cookie["value"], "path": "/"})
