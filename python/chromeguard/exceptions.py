"""Exceptions with Selenium's names, for code written against Selenium.

Each is a `ChromeGuardError` and, when Selenium is importable, also Selenium's class of the same
name, so ``except selenium.common.exceptions.TimeoutException`` catches chromeguard's too.
"""

from __future__ import annotations

from .errors import (
    InvalidArgumentException,
    JavascriptException,
    NoSuchWindowException,
    SessionNotCreatedException,
    TimeoutException,
    WebDriverException,
    _selenium_base,
)

__all__ = [
    "ElementNotInteractableException",
    "InvalidArgumentException",
    "InvalidCookieDomainException",
    "InvalidSelectorException",
    "JavascriptException",
    "NoSuchElementException",
    "NoSuchFrameException",
    "NoSuchWindowException",
    "SessionNotCreatedException",
    "StaleElementReferenceException",
    "TimeoutException",
    "UnableToSetCookieException",
    "WebDriverException",
]


class NoSuchElementException(WebDriverException, *_selenium_base("NoSuchElementException")):  # type: ignore[misc]
    """No element matches the locator."""


class InvalidSelectorException(WebDriverException, *_selenium_base("InvalidSelectorException")):  # type: ignore[misc]
    """The CSS selector or XPath is invalid, or the XPath selects something not an element."""


class StaleElementReferenceException(
    WebDriverException,
    *_selenium_base("StaleElementReferenceException"),  # type: ignore[misc]
):
    """The element is no longer in the page (it was removed, or the page changed)."""


class ElementNotInteractableException(
    WebDriverException,
    *_selenium_base("ElementNotInteractableException"),  # type: ignore[misc]
):
    """The element is hidden or disabled, so it cannot be clicked or typed into."""


class NoSuchFrameException(WebDriverException, *_selenium_base("NoSuchFrameException")):  # type: ignore[misc]
    """The frame does not exist."""


class InvalidCookieDomainException(
    WebDriverException,
    *_selenium_base("InvalidCookieDomainException"),  # type: ignore[misc]
):
    """The cookie's domain is not the current page's."""


class UnableToSetCookieException(
    WebDriverException,
    *_selenium_base("UnableToSetCookieException"),  # type: ignore[misc]
):
    """Chrome refused the cookie (wrong domain for the current page, invalid fields)."""
