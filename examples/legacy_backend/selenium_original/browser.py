"""The original browser.py, before the migration: Selenium with a global lock around the
launch (the patch for "user data directory is already in use")."""

import shutil
import threading

import config
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

_launch_lock = threading.Lock()


def get_browser() -> webdriver.Chrome:
    """A fresh headless browser for one job."""
    options = webdriver.ChromeOptions()
    options.binary_location = config.CHROME_BINARY
    options.add_argument("--headless")
    options.add_argument("--no-sandbox")
    # An explicit chromedriver: Selenium Manager would otherwise try to download one.
    service = Service(executable_path=shutil.which("chromedriver"))
    with _launch_lock:
        return webdriver.Chrome(options=options, service=service)
