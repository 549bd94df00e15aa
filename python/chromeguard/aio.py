"""asyncio API: the same work as the blocking API, run in worker threads so that an await never
blocks the event loop. Cancelling the awaiting task stops the work: the native call notices
within 100 ms and releases its context or browser.

>>> result = await chromeguard.aio.scrape("http://127.0.0.1:8000/downloads")
>>> async with await chromeguard.aio.create_browser() as browser:
...     await browser.get("http://127.0.0.1:8000/")
...     title = await browser.title()
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from . import _native
from .browser import Browser, launch_browser
from .element import WebElement
from .errors import ChromeGuardError
from .scraping import BrowserPool, ScrapeResult, _scrape_args, default_pool

__all__ = ["AsyncBrowser", "create_browser", "scrape", "scrape_many"]

T = TypeVar("T")

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    """Worker threads of their own, so that chromeguard never starves the loop's default pool."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(64, thread_name_prefix="chromeguard-aio")
        return _executor


async def _run(call: Callable[[_native.CancelToken], T]) -> T:
    token = _native.CancelToken()
    future = asyncio.get_running_loop().run_in_executor(_threads(), call, token)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        token.cancel()
        raise


async def scrape(url: str, *, pool: BrowserPool | None = None, **options: Any) -> ScrapeResult:
    """`chromeguard.scrape` for asyncio (on `pool`, or the default pool)."""
    target = pool if pool is not None else default_pool()
    args = _scrape_args(target.config, **options)
    return await _run(functools.partial(target._scrape_one, url, args))


async def scrape_many(
    urls: Iterable[str],
    *,
    concurrency: int | None = None,
    pool: BrowserPool | None = None,
    **options: Any,
) -> list[ScrapeResult | ChromeGuardError]:
    """`chromeguard.scrape_many` for asyncio: results in input order, failures in place."""
    target = pool if pool is not None else default_pool()
    args = _scrape_args(target.config, **options)
    limit = asyncio.Semaphore(concurrency or target.size)

    async def one(url: str) -> ScrapeResult | ChromeGuardError:
        async with limit:
            try:
                return await _run(functools.partial(target._scrape_one, url, args))
            except ChromeGuardError as exc:
                return exc

    return list(await asyncio.gather(*(one(u) for u in urls)))


async def create_browser(**options: Any) -> AsyncBrowser:
    """`chromeguard.create_browser` for asyncio."""
    browser = await _run(functools.partial(launch_browser, options))
    return AsyncBrowser(browser)


class AsyncBrowser:
    """A `Browser` whose calls are awaited. `sync` is the underlying `Browser` (its calls block:
    use them from threads)."""

    def __init__(self, browser: Browser) -> None:
        self.sync = browser

    async def _call(self, method: Callable[..., T], *args: Any) -> T:
        return await _run(lambda _token: method(*args))

    async def get(self, url: str) -> None:
        """Loads `url` (cancellable)."""
        await _run(functools.partial(self.sync._navigate, url))

    async def title(self) -> str:
        """The page title."""
        return await self._call(lambda: self.sync.title)

    async def current_url(self) -> str:
        """The page URL."""
        return await self._call(lambda: self.sync.current_url)

    async def page_source(self) -> str:
        """The page's HTML."""
        return await self._call(lambda: self.sync.page_source)

    async def execute_script(self, script: str, *args: Any) -> Any:
        """`Browser.execute_script`."""
        return await self._call(self.sync.execute_script, script, *args)

    async def find_element(self, by: str, value: str) -> WebElement:
        """`Browser.find_element` (the element's own methods block: call them in threads)."""
        return await self._call(self.sync.find_element, by, value)

    async def find_elements(self, by: str, value: str) -> list[WebElement]:
        """`Browser.find_elements`."""
        return await self._call(self.sync.find_elements, by, value)

    async def storage_state(self) -> dict[str, Any]:
        """`Browser.storage_state`."""
        return await self._call(self.sync.storage_state)

    async def close(self) -> None:
        """`Browser.close`: the current window, or the browser with its last window."""
        await self._call(self.sync.close)

    async def quit(self) -> None:
        """Stops Chrome and removes its profile."""
        await self._call(self.sync.quit)

    async def __aenter__(self) -> AsyncBrowser:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.quit()
