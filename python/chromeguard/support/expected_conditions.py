"""Conditions for `WebDriverWait`, with Selenium's names and semantics.

Each is a callable taking the browser (so Selenium's own ``WebDriverWait`` accepts them too) and
carries the same test as a page predicate, so chromeguard's `WebDriverWait` can wait for it inside
the page, woken by DOM changes, instead of polling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..element import WebElement
from ..exceptions import NoSuchElementException, StaleElementReferenceException

__all__ = [
    "Condition",
    "element_to_be_clickable",
    "presence_of_all_elements_located",
    "presence_of_element_located",
    "text_to_be_present_in_element",
    "title_contains",
    "title_is",
    "url_contains",
    "url_to_be",
    "visibility_of_element_located",
]

Locator = tuple[str, str]

_FIRST = "const d = window.__chromeguardDriver; const el = d.find(null, args[0], args[1])[0];"


class Condition:
    """A wait condition: `check(driver)` returns a truthy value when met; `predicate` is the
    same test as the body of a JavaScript function of ``args`` (page-side waiting)."""

    def __init__(self, check: Callable[[Any], Any], predicate: str, args: list[Any]) -> None:
        self._check = check
        self.predicate = predicate
        self.args = args

    def __call__(self, driver: Any) -> Any:
        return self._check(driver)


def presence_of_element_located(locator: Locator) -> Condition:
    """An element matching `locator` is in the DOM; returns it."""
    by, value = locator
    return Condition(lambda d: d.find_element(by, value), f"{_FIRST} return !!el;", [by, value])


def presence_of_all_elements_located(locator: Locator) -> Condition:
    """At least one element matches `locator`; returns them all."""
    by, value = locator
    predicate = "return window.__chromeguardDriver.find(null, args[0], args[1]).length > 0;"
    return Condition(lambda d: d.find_elements(by, value), predicate, [by, value])


def _visible(driver: Any, by: str, value: str) -> WebElement | bool:
    try:
        element: WebElement = driver.find_element(by, value)
        return element if element.is_displayed() else False
    except StaleElementReferenceException:
        return False


def visibility_of_element_located(locator: Locator) -> Condition:
    """An element matching `locator` is displayed; returns it."""
    by, value = locator
    predicate = f"{_FIRST} return !!el && window.__chromeguardDriver.isDisplayed(el);"
    return Condition(lambda d: _visible(d, by, value), predicate, [by, value])


def element_to_be_clickable(mark: Locator | WebElement) -> Condition:
    """The element (or the first match of a locator) is displayed and enabled; returns it."""

    def check(driver: Any) -> WebElement | bool:
        try:
            element = mark if isinstance(mark, WebElement) else driver.find_element(*mark)
            return element if element.is_displayed() and element.is_enabled() else False
        except StaleElementReferenceException:
            return False

    if isinstance(mark, WebElement):
        predicate = (
            "const d = window.__chromeguardDriver; const el = args[0];"
            " return d.isDisplayed(el) && d.isEnabled(el);"
        )
        return Condition(check, predicate, [mark])
    predicate = f"{_FIRST} return !!el && d.isDisplayed(el) && d.isEnabled(el);"
    return Condition(check, predicate, list(mark))


def title_is(title: str) -> Condition:
    """The page title is exactly `title`."""
    return Condition(lambda d: d.title == title, "return document.title === args[0];", [title])


def title_contains(title: str) -> Condition:
    """The page title contains `title`."""
    return Condition(
        lambda d: title in d.title, "return document.title.includes(args[0]);", [title]
    )


def url_contains(url: str) -> Condition:
    """The current URL contains `url`."""
    return Condition(
        lambda d: url in d.current_url, "return location.href.includes(args[0]);", [url]
    )


def url_to_be(url: str) -> Condition:
    """The current URL is exactly `url`."""
    return Condition(lambda d: d.current_url == url, "return location.href === args[0];", [url])


def text_to_be_present_in_element(locator: Locator, text_: str) -> Condition:
    """The element matching `locator` contains `text_` in its text."""
    by, value = locator

    def check(driver: Any) -> bool:
        try:
            return text_ in driver.find_element(by, value).text
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    predicate = f"{_FIRST} return !!el && (el.innerText || '').includes(args[2]);"
    return Condition(check, predicate, [by, value, text_])
