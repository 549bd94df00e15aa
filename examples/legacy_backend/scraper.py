"""Finds the download links of member pages. Ordinary Selenium code, unchanged by the
migration: `python scraper.py URL...` prints one JSON line per page."""

import json
import sys
from typing import Any

import config
from browser import get_browser
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from session_mgr import login_if_needed


def scrape_downloads(url: str) -> dict[str, Any]:
    # Any: the same code drives Selenium's WebDriver and chromeguard's Browser.
    driver: Any = get_browser()
    try:
        login_if_needed(driver)
        driver.get(url)
        try:
            WebDriverWait(driver, config.WAIT_SECONDS).until(
                EC.presence_of_element_located((By.CSS_SELECTOR, "#downloads a"))
            )
        except TimeoutException:
            return {"url": url, "title": driver.title, "downloads": []}
        links = []
        for anchor in driver.find_elements(By.TAG_NAME, "a"):
            href = anchor.get_attribute("href")
            if href and href.lower().endswith(config.DOWNLOAD_EXTENSIONS):
                links.append({"href": href, "text": anchor.text})
        return {"url": url, "title": driver.title, "downloads": links}
    finally:
        driver.quit()


if __name__ == "__main__":
    for page in sys.argv[1:]:
        print(json.dumps(scrape_downloads(page), sort_keys=True))
