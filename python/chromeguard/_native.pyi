"""The native core of chromeguard (Rust). Use the `chromeguard` package, not this module."""

from os import PathLike
from typing import final

from chromeguard.config import LaunchArgs
from chromeguard.scraping import ScrapeArgs

__all__ = [
    "DEFAULT_EXTENSIONS",
    "CancelToken",
    "NativeBrowser",
    "NativePool",
    "__version__",
    "after_fork_in_child",
    "build_profile",
    "check_extra_args",
    "check_remote_endpoint",
    "check_url",
    "cleanup_stale_profiles",
    "close_all",
    "drain_logs",
    "find_chrome",
    "find_stale_profiles",
    "launch",
    "log_wake_fd",
    "set_log_level",
    "stats",
]

__version__: str
"""The package version, from Cargo.toml."""
DEFAULT_EXTENSIONS: list[str]
"""File extensions that make a link a download."""
build_profile: str
"""``"release"`` or ``"debug"``: how the native module was compiled (for bug reports)."""

@final
class NativeBrowser:
    """A running Chrome owned by the native core; wrapped by `chromeguard.Browser`."""

    @property
    def pid(self) -> int:
        """The main Chrome process id, also its process group id."""
    @property
    def version(self) -> str:
        """Chrome's product string."""
    @property
    def profile_dir(self) -> str:
        """The browser's private directory, removed on close."""
    @property
    def user_data_dir(self) -> str:
        """Chrome's ``--user-data-dir``."""
    @property
    def executable(self) -> str:
        """The binary that runs."""
    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
    def is_alive(self) -> bool:
        """Whether Chrome runs and its DevTools pipe is open."""
    def close(self) -> None:
        """Graceful close, bounded wait, SIGKILL of the process group, reap, profile removal."""
    def navigate(
        self, url: str, wait_until: str, timeout: float, cancel: CancelToken | None = None
    ) -> str:
        """Navigates the page and waits for the lifecycle event `wait_until`
        (``domcontentloaded``, ``load`` or ``networkidle``). Returns ``"loaded"``,
        ``"same_document"`` or ``"aborted"`` (the response was a download)."""
    def reload(self, timeout: float) -> None:
        """Reloads the page and waits for its load event."""
    def go_history(self, delta: int, timeout: float) -> None:
        """Moves `delta` entries through the history and waits for the page."""
    def page_ids(self) -> list[str]:
        """Ids of the browser's pages (tabs)."""
    def current_page_id(self) -> str | None:
        """Id of the current page, None after it was closed."""
    def switch_page(self, target_id: str) -> None:
        """Makes page `target_id` current."""
    def close_page(self) -> None:
        """Closes the current page."""
    def evaluate(
        self,
        expression: str,
        await_promise: bool,
        timeout: float,
        cancel: CancelToken | None = None,
    ) -> str:
        """Evaluates `expression` in the page; returns its value as JSON text."""
    def command(self, method: str, params: str, timeout: float, page: bool = True) -> str:
        """Sends a CDP command (params as JSON text) to the page's session or, with
        ``page=False``, to the browser; returns the result as JSON text."""

@final
class CancelToken:
    """Cancels a blocking call from another thread: the call notices within 100 ms, stops and
    releases what it held (raising `chromeguard.errors.OperationCancelled`)."""

    def __new__(cls) -> CancelToken: ...
    def cancel(self) -> None:
        """Asks the call to stop."""
    @property
    def cancelled(self) -> bool:
        """Whether `cancel()` was called."""

def launch(options: LaunchArgs, cancel: CancelToken | None = None) -> NativeBrowser:
    """Launches Chrome with a private profile, serialized by the global launch mutex and
    retried with backoff. Raises `chromeguard.errors.BrowserLaunchError`."""

@final
class NativePool:
    """A pool of warm browsers serving scrapes; wrapped by `chromeguard.BrowserPool`."""

    def __new__(
        cls,
        launch: LaunchArgs,
        size: int,
        max_uses: int,
        acquire_timeout: float,
        remote_endpoints: list[str] = ...,
    ) -> NativePool: ...
    def scrape(self, url: str, options: ScrapeArgs, cancel: CancelToken | None = None) -> str:
        """Scrapes `url` (checked against the URL policy first); returns the result as JSON."""
    def stats(self) -> dict[str, int]:
        """The pool's counters."""
    def close(self) -> None:
        """Closes every browser of the pool."""

def check_url(url: str, allow_file_urls: bool, block_private_networks: bool) -> str:
    """Checks `url` against the URL policy; returns it normalized or raises InvalidUrlError."""

def check_remote_endpoint(endpoint: str) -> None:
    """Raises `chromeguard.errors.ConfigError` unless `endpoint` is ws://... or http://..."""

def check_extra_args(extra_args: list[str]) -> None:
    """Raises `chromeguard.errors.ConfigError` for switches chromeguard must own."""

def stats() -> dict[str, int]:
    """Process-wide counters."""

def cleanup_stale_profiles(profile_root: str | PathLike[str]) -> int:
    """Removes profile directories whose owner process is dead; returns how many."""

def find_stale_profiles(profile_root: str | PathLike[str]) -> list[str]:
    """Profile directories whose owner process is gone (what cleanup would remove)."""

def find_chrome(headless: bool) -> str | None:
    """The Chrome binary discovery would pick, or None."""

def close_all() -> int:
    """Closes every browser of this process still open; returns how many were open."""

def after_fork_in_child() -> None:
    """Releases locks that a thread of the parent held at fork() time."""

def log_wake_fd() -> int:
    """Creates the log wake-up pipe and returns its read end."""

def drain_logs() -> tuple[list[tuple[int, str, str]], int]:
    """Queued log records (level, logger name, message) and how many were dropped."""

def set_log_level(level: int) -> None:
    """Sets the native log threshold from a Python logging level."""
