"""`scrape()`: a page's direct download URLs, from a warm pool of isolated browser contexts."""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Union

from . import _logging, _native
from ._closing import Closing
from .config import Config, launch_args, on_configure, resolve_config
from .errors import ChromeGuardError, ConfigError, InvalidUrlError
from .storage import cookie_params, load_state, restore_script

__all__ = [
    "DEFAULT_EXTENSIONS",
    "BrowserPool",
    "DownloadLink",
    "ScrapeResult",
    "scrape",
    "scrape_many",
    "shutdown",
]

DEFAULT_EXTENSIONS: tuple[str, ...] = tuple(_native.DEFAULT_EXTENSIONS)
"""File extensions that make a link a download: archives, installers and packages, video,
audio, documents, disk images."""

WaitUntil = Literal["domcontentloaded", "load", "networkidle"]
Cookies = Union[Mapping[str, str], Sequence[Mapping[str, Any]]]

_DEFAULT_SETTLE = 0.3
# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class DownloadLink:
    """One direct download URL found on a page.

    Attributes:
        url: absolute, direct URL (for ``source="redirect"``, after following redirects).
        text: the link's text or the media element's label ("" when seen on the network).
        source: ``"dom"`` (a link or media element), ``"network"`` (a response seen while the
            page loaded) or ``"redirect"`` (a download-looking link resolved to its file).
        mime: the MIME type when known.
        filename: from Content-Disposition or the URL path; never contains a path separator.
    """

    url: str
    text: str
    source: Literal["dom", "network", "redirect"]
    mime: str | None
    filename: str | None


@dataclass(frozen=True)
class ScrapeResult:
    """What `scrape()` found on one page.

    Attributes:
        url: the URL asked for (normalized).
        final_url: the page's URL after redirects.
        status: HTTP status of the main document, or None (no HTTP response).
        title: the page title.
        links: every absolute http(s) link on the page, de-duplicated, in document order.
        downloads: the page's download links, de-duplicated by URL.
        html: the page's HTML when ``include_html=True``, else None.
        elapsed: seconds the scrape took (without waiting for the pool).
        attempts: 1, or 2 when the browser failed and the scrape was retried on a fresh one.
    """

    url: str
    final_url: str
    status: int | None
    title: str
    links: list[str]
    downloads: list[DownloadLink]
    html: str | None
    elapsed: float
    attempts: int


class ScrapeArgs(TypedDict):
    """The options of one scrape as the native core takes them."""

    wait_until: str
    wait_for: str | None
    timeout: float
    settle: float
    resolve: bool
    include_html: bool
    extensions: list[str] | None
    headers: list[tuple[str, str]]
    user_agent: str | None
    cookies_json: str
    init_script: str | None
    allow_file_urls: bool
    block_private_networks: bool


# The validated options, the caller's cookies (bound to each URL later) and a stored login's.
_Options = tuple[ScrapeArgs, Union[Cookies, None], list[dict[str, Any]]]


def _cookie_params(cookies: Cookies | None, url: str) -> list[dict[str, Any]]:
    if cookies is None:
        return []
    if isinstance(cookies, Mapping):
        return [{"name": str(k), "value": str(v), "url": url} for k, v in cookies.items()]
    params = []
    for cookie in cookies:
        if not isinstance(cookie, Mapping) or "name" not in cookie or "value" not in cookie:
            raise ConfigError(f"each cookie needs at least 'name' and 'value', not {cookie!r}")
        param = {
            key: cookie[key]
            for key in (
                "name",
                "value",
                "domain",
                "path",
                "secure",
                "httpOnly",
                "sameSite",
                "expires",
                "url",
            )
            if key in cookie and cookie[key] is not None
        }
        if "expiry" in cookie and "expires" not in param:
            param["expires"] = cookie["expiry"]
        if "domain" not in param and "url" not in param:
            param["url"] = url
        params.append(param)
    return params


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}")
    if value < 0:
        raise ConfigError(f"{name} must be >= 0, not {value!r}")
    return float(value)


def _scrape_args(
    config: Config,
    *,
    wait_until: WaitUntil = "load",
    wait_for: str | None = None,
    timeout: float | None = None,
    settle: float | None = None,
    resolve: bool = True,
    include_html: bool = False,
    extensions: Iterable[str] | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = None,
    cookies: Cookies | None = None,
    storage_state: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> _Options:
    """Validates the options of one scrape."""
    if wait_until not in ("domcontentloaded", "load", "networkidle"):
        raise ConfigError(
            f'wait_until must be "domcontentloaded", "load" or "networkidle", not {wait_until!r}'
        )
    if wait_for is not None and (not isinstance(wait_for, str) or not wait_for.strip()):
        raise ConfigError(f"wait_for must be a CSS selector, not {wait_for!r}")
    limit = config.navigation_timeout if timeout is None else _seconds("timeout", timeout)
    if limit <= 0:
        raise ConfigError(f"timeout must be > 0, not {timeout!r}")
    exts: list[str] | None = None
    if extensions is not None:
        if isinstance(extensions, str):
            raise ConfigError("extensions must be a list of extensions such as ['apk', 'zip']")
        exts = []
        for ext in extensions:
            if not isinstance(ext, str) or not ext.strip(". ") or "/" in ext:
                raise ConfigError(f"invalid extension {ext!r}; use names such as 'apk' or '.zip'")
            exts.append(ext.strip().lstrip(".").lower())
    header_list: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ConfigError(f"{name!r} is not a valid HTTP header name")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise ConfigError(f"the value of header {name!r} must be a single-line string")
        header_list.append((name, value))
    if user_agent is not None and (
        not isinstance(user_agent, str) or not user_agent or any(c in user_agent for c in "\r\n\0")
    ):
        raise ConfigError(f"user_agent must be a non-empty single-line string, not {user_agent!r}")
    args: ScrapeArgs = {
        "wait_until": wait_until,
        "wait_for": wait_for,
        "timeout": limit,
        "settle": _DEFAULT_SETTLE if settle is None else _seconds("settle", settle),
        "resolve": bool(resolve),
        "include_html": bool(include_html),
        "extensions": exts,
        "headers": header_list,
        "user_agent": user_agent,
        "cookies_json": "[]",
        "init_script": None,
        "allow_file_urls": config.allow_file_urls,
        "block_private_networks": config.block_private_networks,
    }
    stored: list[dict[str, Any]] = []
    if storage_state is not None:
        state = load_state(storage_state)
        stored = cookie_params(state)
        args["init_script"] = restore_script(state)
    return args, cookies, stored


def _result(data: dict[str, Any]) -> ScrapeResult:
    data["downloads"] = [DownloadLink(**d) for d in data["downloads"]]
    return ScrapeResult(**data)


class BrowserPool(Closing):
    """Warm browsers that serve scrapes, each scrape in a fresh browser context.

    `size` scrapes run at once (default: the number of CPUs); how they map onto browsers is the
    pool's business (several contexts share one browser). A browser is replaced after
    `max_uses` contexts, or at once if it crashes or hangs (the scrape it broke is retried once).
    A caller that finds no room within `acquire_timeout` seconds gets `PoolTimeout`. Other
    keyword options are those of `Config`; with ``remote_endpoints`` the pool attaches to
    browsers that run elsewhere (round-robin, a failing endpoint skipped and retried later)
    and never stops them: it only closes the contexts it opened.

    >>> with chromeguard.BrowserPool(size=4) as pool:
    ...     results = pool.scrape_many(urls)
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        max_uses: int | None = None,
        acquire_timeout: float | None = None,
        **config: Any,
    ) -> None:
        for name, value in (
            ("pool_size", size),
            ("max_uses", max_uses),
            ("acquire_timeout", acquire_timeout),
        ):
            if value is not None:
                config[name] = value
        self._config = resolve_config(**config)
        self._native = _native.NativePool(
            launch_args(self._config),
            self._config.effective_pool_size,
            self._config.max_uses,
            self._config.acquire_timeout,
            list(self._config.remote_endpoints),
        )

    @property
    def config(self) -> Config:
        """The configuration this pool runs with."""
        return self._config

    @property
    def size(self) -> int:
        """How many scrapes run at once."""
        return self._config.effective_pool_size

    def scrape(self, url: str, **options: Any) -> ScrapeResult:
        """Scrapes one page; see `chromeguard.scrape` for the options."""
        if not isinstance(url, str):
            raise TypeError(f"url must be a string, not {type(url).__name__}")
        args = _scrape_args(self._config, **options)
        return self._scrape_one(url, args)

    def _scrape_one(
        self, url: str, options: _Options, cancel: _native.CancelToken | None = None
    ) -> ScrapeResult:
        args, cookies, stored = options
        params = [*stored, *_cookie_params(cookies, url)]
        call: ScrapeArgs = {**args, "cookies_json": json.dumps(params)}
        _logging.sync_level()
        return _result(json.loads(self._native.scrape(url, call, cancel)))

    def scrape_many(
        self, urls: Iterable[str], *, concurrency: int | None = None, **options: Any
    ) -> list[ScrapeResult | ChromeGuardError]:
        """Scrapes every URL, `concurrency` at a time (default: the pool size). Results come
        in input order; a page that failed is returned in place as its exception."""
        args = _scrape_args(self._config, **options)
        todo = list(urls)
        workers = self.size if concurrency is None else concurrency
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"concurrency must be an integer >= 1, not {concurrency!r}")

        def one(url: object) -> ScrapeResult | ChromeGuardError:
            try:
                if not isinstance(url, str):
                    raise TypeError(f"url must be a string, not {type(url).__name__}")
                return self._scrape_one(url, args)
            except ChromeGuardError as exc:
                return exc
            except TypeError as exc:
                return InvalidUrlError(str(exc))

        if not todo:
            return []
        with ThreadPoolExecutor(
            min(workers, len(todo)), thread_name_prefix="chromeguard-scrape"
        ) as pool:
            return list(pool.map(one, todo))

    def stats(self) -> dict[str, int]:
        """size, browsers, in_use, scrapes, failures, retries, browsers_launched,
        browsers_replaced, browsers_recycled, warm_hits, spare_pages, and contexts (browser
        contexts open in the pool's browsers now, spare pages included)."""
        return self._native.stats()

    def close(self) -> None:
        """Closes every browser of the pool; later scrapes raise `BrowserClosedError`."""
        self._native.close()

    def _finish(self) -> None:
        self.close()


_default_lock = threading.Lock()
_default_pool: BrowserPool | None = None
_default_pid = 0


def default_pool() -> BrowserPool:
    """The pool behind the module-level `scrape()`, started on first use."""
    global _default_pool, _default_pid
    with _default_lock:
        if _default_pool is None or _default_pid != os.getpid():
            _default_pool = BrowserPool()
            _default_pid = os.getpid()
        return _default_pool


def _close_default_pool() -> None:
    global _default_pool
    with _default_lock:
        pool, _default_pool = _default_pool, None
    if pool is not None and _default_pid == os.getpid():
        pool.close()


on_configure(_close_default_pool)


def scrape(
    url: str,
    *,
    wait_until: WaitUntil = "load",
    wait_for: str | None = None,
    timeout: float | None = None,
    settle: float | None = None,
    resolve: bool = True,
    include_html: bool = False,
    extensions: Iterable[str] | None = None,
    headers: Mapping[str, str] | None = None,
    user_agent: str | None = None,
    cookies: Cookies | None = None,
    storage_state: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> ScrapeResult:
    """Loads `url` in a fresh browser context of the default pool and returns its links and
    direct download URLs.

    Args:
        wait_until: the load state to wait for: ``"domcontentloaded"``, ``"load"`` or
            ``"networkidle"``.
        wait_for: a CSS selector to wait for after that; `ScrapeTimeout` if it never appears.
        timeout: seconds for the whole scrape (default: ``navigation_timeout``).
        settle: at most this many seconds (default 0.3) to keep watching for links that scripts
            add; ends as soon as the page has no pending timer, request or DOM change.
        resolve: resolve download-looking links (download/dl/get/export) to their final file
            URL, without fetching the file.
        include_html: also return the page's HTML.
        extensions: file extensions that make a link a download (replaces DEFAULT_EXTENSIONS).
        headers: extra HTTP headers for every request of the page.
        user_agent: the User-Agent for this scrape.
        cookies: cookies to set first: ``{"name": "value"}`` for the page's URL, or a list of
            dicts with ``name``, ``value`` and optionally ``domain``, ``path``, ``secure``, ...
        storage_state: a login to restore first (`Browser.storage_state`, `SessionStore`).

    Raises:
        InvalidUrlError: the URL is not an absolute http(s) URL (or is blocked by policy).
        NavigationError: Chrome could not reach the page (``.error_text`` is ``net::ERR_*``).
        ScrapeTimeout: the scrape did not finish within `timeout`.
        PoolTimeout: no room in the pool within ``acquire_timeout``.

    HTTP error statuses are results (``status=404``), not exceptions.
    """
    return default_pool().scrape(
        url,
        wait_until=wait_until,
        wait_for=wait_for,
        timeout=timeout,
        settle=settle,
        resolve=resolve,
        include_html=include_html,
        extensions=extensions,
        headers=headers,
        user_agent=user_agent,
        cookies=cookies,
        storage_state=storage_state,
    )


def scrape_many(
    urls: Iterable[str], *, concurrency: int | None = None, **options: Any
) -> list[ScrapeResult | ChromeGuardError]:
    """Scrapes every URL with the default pool; results in input order, failures in place as
    exception instances (never raised for one bad URL). Options are those of `scrape()`."""
    return default_pool().scrape_many(urls, concurrency=concurrency, **options)


def shutdown() -> None:
    """Closes the default pool and every browser of this process still open. Runs at exit."""
    _close_default_pool()
    _native.close_all()
