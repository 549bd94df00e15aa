"""`Browser`: one isolated headless Chrome, with the page basics a scraper needs."""

from __future__ import annotations

import json
import os
from typing import Any

from . import _logging, _native
from ._closing import Closing
from .config import launch_args, resolve_config

__all__ = ["Browser", "create_browser"]

_SCRIPT_TIMEOUT = 30.0


class Browser(Closing):
    """A running Chrome with a private profile; create it with `create_browser()`.

    Use it as a context manager, or call `close()` (alias `quit()`): Chrome and all its helper
    processes are stopped and the profile directory is removed. A browser dropped or still open
    at interpreter exit is closed too.

    >>> with chromeguard.create_browser() as browser:
    ...     browser.get("http://127.0.0.1:8000/")
    ...     print(browser.title)
    """

    def __init__(self, native: _native.NativeBrowser, navigation_timeout: float) -> None:
        self._native = native
        self._navigation_timeout = navigation_timeout
        self._script_timeout = _SCRIPT_TIMEOUT

    @property
    def pid(self) -> int:
        """Process id of the main Chrome process (also its process group id)."""
        return self._native.pid

    @property
    def profile_dir(self) -> str:
        """This browser's private directory (removed on close)."""
        return os.fspath(self._native.profile_dir)

    @property
    def user_data_dir(self) -> str:
        """Chrome's ``--user-data-dir``: inside `profile_dir`, or the persistent one you gave."""
        return os.fspath(self._native.user_data_dir)

    @property
    def executable_path(self) -> str:
        """The Chrome binary that runs."""
        return os.fspath(self._native.executable)

    @property
    def version(self) -> str:
        """Chrome's product string, e.g. ``HeadlessChrome/156.0.8078.114``."""
        return self._native.version

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._native.closed

    def is_alive(self) -> bool:
        """Whether Chrome is still running and reachable."""
        return self._native.is_alive()

    def get(self, url: str) -> None:
        """Loads `url` and waits for its load event (Selenium's ``driver.get``).

        Raises `NavigationError` (with Chrome's ``net::ERR_*``) when the page cannot be
        reached, `NavigationTimeout` after the navigation timeout, `InvalidUrlError` for a URL
        Chrome cannot parse. An HTTP error status is not an error. A URL that turns out to be
        a download leaves the current page as it was (Chrome reports ``net::ERR_ABORTED``).
        """
        if not isinstance(url, str):
            raise TypeError(f"url must be a string, not {type(url).__name__}")
        self._native.navigate(url, "load", self._navigation_timeout)

    @property
    def page_source(self) -> str:
        """The current DOM serialized as HTML."""
        return str(
            self._evaluate("document.documentElement ? document.documentElement.outerHTML : ''")
        )

    @property
    def current_url(self) -> str:
        """The URL of the current page."""
        return str(self._evaluate("location.href"))

    @property
    def title(self) -> str:
        """The current page's title."""
        return str(self._evaluate("document.title"))

    def execute_script(self, script: str, *args: Any) -> Any:
        """Runs `script` as the body of a function in the page, with Selenium's semantics.

        ``return`` gives the value; ``arguments[i]`` are `args`. Arguments and the result are
        JSON-compatible values; a returned Promise is awaited. A thrown error raises
        `JavascriptError`.

        >>> browser.execute_script("return arguments[0] + arguments[1]", 1, 2)
        3
        """
        if not isinstance(script, str):
            raise TypeError(f"script must be a string, not {type(script).__name__}")
        try:
            encoded = json.dumps(list(args), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"execute_script arguments must be JSON-compatible: {exc}") from None
        expression = f"(function(){{\n{script}\n}}).apply(null, {encoded})"
        return self._evaluate(expression)

    def execute_cdp_cmd(self, cmd: str, cmd_args: dict[str, Any] | None = None) -> Any:
        """Sends a raw DevTools command to the current page (Selenium's ``execute_cdp_cmd``)."""
        params = json.dumps(cmd_args or {})
        return json.loads(self._native.command(cmd, params, self._script_timeout))

    def _evaluate(self, expression: str) -> Any:
        return json.loads(self._native.evaluate(expression, True, self._script_timeout))

    def close(self) -> None:
        """Stops Chrome and every process it started, and removes the profile. Idempotent."""
        self._native.close()

    def quit(self) -> None:
        """Alias of `close()` (Selenium's name)."""
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"pid={self.pid}"
        return f"<chromeguard.Browser {state} profile={self.profile_dir!r}>"


def create_browser(**options: Any) -> Browser:
    """Launches an isolated headless Chrome and returns it.

    `options` are those of `Config`; they override `configure()` and the environment. Launches
    from many threads are safe: only the start-up itself is serialized, with the GIL released.

    Raises `BrowserLaunchError` (see its ``reason``) when Chrome cannot start, `ConfigError` for
    an invalid option.
    """
    config = resolve_config(**options)
    _logging.sync_level()
    native = _native.launch(launch_args(config))
    return Browser(native, config.navigation_timeout)
