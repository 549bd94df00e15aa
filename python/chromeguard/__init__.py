"""chromeguard: headless Chrome sessions for Python scraping backends that never collide, never
leak and never hide why they failed.

>>> import chromeguard
>>> with chromeguard.create_browser() as browser:
...     browser.get("http://127.0.0.1:8000/")
...     links = browser.execute_script("return [...document.links].map(a => a.href)")
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from . import _logging, _native
from .browser import Browser, create_browser
from .config import Config, configure, current_config
from .element import By, Keys, WebElement
from .errors import (
    BrowserClosedError,
    BrowserLaunchError,
    ChromeGuardError,
    ConfigError,
    InvalidUrlError,
    JavascriptError,
    NavigationError,
    NavigationTimeout,
    OperationCancelled,
    OperationTimeout,
    PoolTimeout,
    ProtocolError,
    ScrapeTimeout,
)
from .scraping import (
    DEFAULT_EXTENSIONS,
    BrowserPool,
    DownloadLink,
    ScrapeResult,
    scrape,
    scrape_many,
    shutdown,
)
from .storage import SessionStore

__version__: str = _native.__version__

__all__ = [
    "DEFAULT_EXTENSIONS",
    "Browser",
    "BrowserClosedError",
    "BrowserLaunchError",
    "BrowserPool",
    "By",
    "ChromeGuardError",
    "Config",
    "ConfigError",
    "DownloadLink",
    "InvalidUrlError",
    "JavascriptError",
    "Keys",
    "NavigationError",
    "NavigationTimeout",
    "OperationCancelled",
    "OperationTimeout",
    "PoolTimeout",
    "ProtocolError",
    "ScrapeResult",
    "ScrapeTimeout",
    "SessionStore",
    "WebElement",
    "__version__",
    "cleanup_stale_profiles",
    "configure",
    "create_browser",
    "current_config",
    "find_chrome",
    "scrape",
    "scrape_many",
    "shutdown",
    "stats",
]


def stats() -> dict[str, int]:
    """Process-wide counters: launches, launch_attempts, launch_failures, retries,
    active_browsers, browsers_closed, profiles_removed, stale_profiles_removed."""
    return _native.stats()


def cleanup_stale_profiles(profile_root: str | os.PathLike[str] | None = None) -> int:
    """Removes profile directories whose owning process is dead, killing any Chrome still
    using them (found by its command line), and returns how many were removed.

    It also runs by itself before the first launch of each process.
    """
    root = current_config().effective_profile_root if profile_root is None else profile_root
    return _native.cleanup_stale_profiles(os.fspath(root))


def find_chrome(headless: bool = True, **options: Any) -> str | None:
    """The Chrome binary a launch would use, or None if there is none."""
    config = current_config().replace(headless=headless, **options)
    if config.executable_path is not None:
        return config.executable_path
    found = _native.find_chrome(config.headless)
    return None if found is None else os.fspath(found)


def _after_fork_in_child() -> None:
    _native.after_fork_in_child()
    _logging.start()


_logging.start()
os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown)
