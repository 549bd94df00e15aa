"""The exceptions chromeguard raises. Every message says what happened and what to do next.

The native core raises these classes (it imports this module), so this file is the one place
where the hierarchy and its fields are defined.
"""

from __future__ import annotations

from typing import Literal

try:
    from selenium.common import exceptions as _selenium
except ImportError:
    _selenium = None  # type: ignore[assignment]

__all__ = [
    "BrowserClosedError",
    "BrowserLaunchError",
    "ChromeGuardError",
    "ConfigError",
    "InvalidArgumentException",
    "InvalidUrlError",
    "JavascriptError",
    "JavascriptException",
    "LaunchFailureReason",
    "NavigationError",
    "NavigationTimeout",
    "NoSuchWindowException",
    "OperationCancelled",
    "OperationTimeout",
    "PoolTimeout",
    "ProtocolError",
    "ScrapeTimeout",
    "SessionNotCreatedException",
    "TimeoutException",
    "WebDriverException",
]

LaunchFailureReason = Literal[
    "executable_not_found", "profile_in_use", "sandbox", "crashed", "timeout", "unknown"
]
"""Why a launch failed: the values of `BrowserLaunchError.reason`."""


def _selenium_base(name: str) -> tuple[type[Exception], ...]:
    """Selenium's exception class `name` when Selenium is importable, so that code written
    against Selenium (``except TimeoutException:``) catches chromeguard's errors too."""
    found = getattr(_selenium, name, None) if _selenium is not None else None
    return (found,) if isinstance(found, type) and issubclass(found, Exception) else ()


class ChromeGuardError(Exception):
    """Base class of every chromeguard error."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message
        # Selenium's exceptions keep their message here.
        self.msg = message

    def __str__(self) -> str:
        return self.message


class WebDriverException(ChromeGuardError, *_selenium_base("WebDriverException")):  # type: ignore[misc]
    """Base of the errors with Selenium's names (see `chromeguard.exceptions`); also Selenium's
    ``WebDriverException`` when Selenium is installed."""


class TimeoutException(WebDriverException, *_selenium_base("TimeoutException")):  # type: ignore[misc]
    """Something did not happen in time (Selenium's name)."""


class SessionNotCreatedException(WebDriverException, *_selenium_base("SessionNotCreatedException")):  # type: ignore[misc]
    """A browser could not be started (Selenium's name)."""


class ConfigError(ChromeGuardError, ValueError):
    """An option has an invalid value (also a `ValueError`).

    >>> chromeguard.Config(launch_retries=-1)
    Traceback (most recent call last):
    ConfigError: launch_retries must be an integer >= 0, not -1
    """


class BrowserLaunchError(SessionNotCreatedException):
    """Chrome could not be started.

    Attributes:
        reason: one of ``executable_not_found``, ``profile_in_use``, ``sandbox``, ``crashed``,
            ``timeout``, ``unknown``.
        attempts: how many starts were tried (retries included).
        stderr_tail: the last lines Chrome printed, where the real cause usually is.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: LaunchFailureReason = "unknown",
        attempts: int = 1,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.reason: LaunchFailureReason = reason
        self.attempts = attempts
        self.stderr_tail = stderr_tail

    def __str__(self) -> str:
        text = super().__str__()
        tail = self.stderr_tail.strip()
        if tail:
            last = "\n".join(tail.splitlines()[-5:])
            text = f"{text}\nChrome printed:\n{last}"
        return text


class BrowserClosedError(WebDriverException):
    """The browser was closed (or Chrome exited); create a new one."""


class InvalidArgumentException(WebDriverException, *_selenium_base("InvalidArgumentException")):  # type: ignore[misc]
    """An argument is invalid (Selenium's name)."""


class InvalidUrlError(InvalidArgumentException, ValueError):
    """The URL is malformed or its scheme is not allowed (also a `ValueError`)."""


class NoSuchWindowException(WebDriverException, *_selenium_base("NoSuchWindowException")):  # type: ignore[misc]
    """The window (tab) does not exist or was closed (Selenium's name)."""


class NavigationError(WebDriverException):
    """Chrome could not load the page: DNS failure, refused or reset connection, ...

    Attributes:
        url: the URL that failed.
        error_text: Chrome's network error, such as ``net::ERR_CONNECTION_REFUSED``.
    """

    def __init__(self, message: str, *, url: str = "", error_text: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.error_text = error_text


class OperationTimeout(TimeoutException, TimeoutError):
    """An operation did not finish in time (also a `TimeoutError`)."""


class NavigationTimeout(OperationTimeout):
    """A page did not finish loading within the navigation timeout."""


class ScrapeTimeout(OperationTimeout):
    """A scrape did not finish within its timeout."""


class PoolTimeout(OperationTimeout):
    """No browser of the pool became free within ``acquire_timeout``."""


class OperationCancelled(ChromeGuardError):
    """The call was cancelled by its caller (an asyncio task that was cancelled)."""


class JavascriptException(WebDriverException, *_selenium_base("JavascriptException")):  # type: ignore[misc]
    """A script run in the page threw (Selenium's name)."""


class JavascriptError(JavascriptException):
    """A script run in the page threw; the message carries the JavaScript error and stack."""


class ProtocolError(WebDriverException):
    """Chrome rejected a DevTools command.

    Attributes:
        method: the CDP method, such as ``Page.navigate``.
        code: the CDP error code.
    """

    def __init__(self, message: str, *, method: str = "", code: int = 0) -> None:
        super().__init__(message)
        self.method = method
        self.code = code
