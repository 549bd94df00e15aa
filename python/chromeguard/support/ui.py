"""`WebDriverWait`, with Selenium's name and semantics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..errors import ChromeGuardError
from ..exceptions import NoSuchElementException, TimeoutException
from .expected_conditions import Condition

__all__ = ["WebDriverWait"]

T = TypeVar("T")

# A page-side wait is cut into slices so that conditions no DOM change reveals (a URL changed by
# history.pushState) are still re-checked.
_SLICE = 1.0


class WebDriverWait:
    """Waits until a condition holds: ``WebDriverWait(browser, 10).until(condition)``.

    With chromeguard's `expected_conditions` and a chromeguard browser the wait happens inside
    the page, woken by DOM changes; any other callable is polled every `poll_frequency` seconds.
    `TimeoutException` when `timeout` passes.
    """

    def __init__(
        self,
        driver: Any,
        timeout: float,
        poll_frequency: float = 0.5,
        ignored_exceptions: Iterable[type[BaseException]] | None = None,
    ) -> None:
        self._driver = driver
        self._timeout = float(timeout)
        self._poll = poll_frequency if poll_frequency > 0 else 0.5
        self._ignored: tuple[type[BaseException], ...] = (
            NoSuchElementException,
            *(ignored_exceptions or ()),
        )

    def until(self, method: Callable[[Any], T], message: str = "") -> T:
        """Returns the first truthy value of `method(driver)`."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                value = method(self._driver)
                if value:
                    return value
            except self._ignored:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutException(message or f"condition not met within {self._timeout} s")
            self._pause(method, min(remaining, _SLICE))

    def until_not(self, method: Callable[[Any], Any], message: str = "") -> Any:
        """Waits until `method(driver)` is falsy (or raises an ignored exception)."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                value = method(self._driver)
                if not value:
                    return value
            except self._ignored:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutException(message or f"condition still met after {self._timeout} s")
            time.sleep(min(self._poll, remaining))

    def _pause(self, method: Callable[[Any], Any], limit: float) -> None:
        page_wait = getattr(self._driver, "_wait_in_page", None)
        if isinstance(method, Condition) and page_wait is not None:
            try:
                page_wait(method.predicate, method.args, limit)
                return
            except ChromeGuardError:
                # The page navigated while waiting (its context is gone): check again.
                return
        time.sleep(min(self._poll, limit))
