"""`Browser`: one isolated headless Chrome, with the page basics a scraper needs."""

from __future__ import annotations

import base64
import json
import math
import os
import re
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from . import _logging, _native
from ._closing import Closing
from .config import launch_args, resolve_config
from .element import ELEMENT_KEY, By, Keys, WebElement
from .errors import (
    BrowserClosedError,
    InvalidArgumentException,
    JavascriptError,
    TimeoutException,
    WebDriverException,
)
from .exceptions import (
    ElementNotInteractableException,
    InvalidCookieDomainException,
    InvalidSelectorException,
    NoSuchElementException,
    NoSuchFrameException,
    NoSuchWindowException,
    StaleElementReferenceException,
    UnableToSetCookieException,
)
from .storage import StorageState, cookie_params, load_state, restore_script

__all__ = ["Browser", "create_browser"]

_SCRIPT_TIMEOUT = 30.0
_DRIVER_SOURCE = json.dumps((Path(__file__).parent / "js" / "driver.js").read_text())
# Installs the page script in the top window and in each frame of the path (each frame's own
# realm, so scripts see that frame's globals), then runs one operation in the innermost.
_IN_FRAME = """(source, [op, path, args]) => {
  let win = window;
  let driver = win.eval(source);
  for (const id of path) {
    const frame = driver.element(id).contentWindow;
    if (!frame) {
      const e = new Error("the frame is gone"); e.name = "NoSuchFrameException"; throw e;
    }
    try { driver = frame.eval(source); } catch (err) {
      const e = new Error(String(err)); e.name = "CrossOriginFrame"; throw e;
    }
    win = frame;
  }
  return driver.ops[op](...args);
}"""
# Errors thrown by the page script, by the name it gives them.
_PAGE_ERRORS: dict[str, type[WebDriverException]] = {
    "StaleElementReferenceException": StaleElementReferenceException,
    "InvalidSelectorException": InvalidSelectorException,
    "InvalidArgumentException": InvalidArgumentException,
    "ElementNotInteractableException": ElementNotInteractableException,
    "ScriptTimeoutException": TimeoutException,
    "NoSuchFrameException": NoSuchFrameException,
}
_PAGE_ERROR = re.compile(r"^script raised: (\w+): (.*)", re.S)
# Special keys as CDP key events: (key, code, Windows virtual key code, text typed).
_KEY_EVENTS: dict[str, tuple[str, str, int, str]] = {
    Keys.BACKSPACE: ("Backspace", "Backspace", 8, ""),
    Keys.TAB: ("Tab", "Tab", 9, ""),
    Keys.RETURN: ("Enter", "Enter", 13, "\r"),
    Keys.ENTER: ("Enter", "Enter", 13, "\r"),
    Keys.ESCAPE: ("Escape", "Escape", 27, ""),
    Keys.SPACE: (" ", "Space", 32, " "),
    Keys.END: ("End", "End", 35, ""),
    Keys.HOME: ("Home", "Home", 36, ""),
    Keys.LEFT: ("ArrowLeft", "ArrowLeft", 37, ""),
    Keys.UP: ("ArrowUp", "ArrowUp", 38, ""),
    Keys.RIGHT: ("ArrowRight", "ArrowRight", 39, ""),
    Keys.DOWN: ("ArrowDown", "ArrowDown", 40, ""),
    Keys.DELETE: ("Delete", "Delete", 46, ""),
}
# Selenium WebDriver members chromeguard does not provide: using one says so instead of failing
# with a bare AttributeError.
_UNSUPPORTED = frozenset(
    {
        "maximize_window",
        "minimize_window",
        "fullscreen_window",
        "set_window_size",
        "get_window_size",
        "set_window_position",
        "get_window_position",
        "set_window_rect",
        "get_window_rect",
        "get_log",
        "log_types",
        "print_page",
        "execute",
        "get_downloadable_files",
        "download_file",
        "delete_downloadable_files",
        "bidi_connection",
        "add_virtual_authenticator",
        "get_pinned_scripts",
        "pin_script",
        "unpin",
        "file_detector",
        "orientation",
        "application_cache",
        "network_conditions",
        "set_network_conditions",
        "launch_app",
        "get_sinks",
        "start_tab_mirroring",
        "start_desktop_mirroring",
        "stop_casting",
    }
)
_STRATEGIES = (
    By.ID,
    By.XPATH,
    By.LINK_TEXT,
    By.PARTIAL_LINK_TEXT,
    By.NAME,
    By.TAG_NAME,
    By.CLASS_NAME,
    By.CSS_SELECTOR,
)


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
        self._implicit_wait = 0.0
        # The frame `switch_to.frame` entered: element ids of frame elements, outermost first.
        self._frames: tuple[str, ...] = ()

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
        self._navigate(url, None)

    def _navigate(self, url: str, cancel: _native.CancelToken | None) -> None:
        self._frames = ()
        self._native.navigate(url, "load", self._navigation_timeout, cancel)

    def back(self) -> None:
        """Goes one page back in the history and waits for it (nothing at the first page)."""
        self._frames = ()
        self._native.go_history(-1, self._navigation_timeout)

    def forward(self) -> None:
        """Goes one page forward in the history and waits for it (nothing at the last page)."""
        self._frames = ()
        self._native.go_history(1, self._navigation_timeout)

    def refresh(self) -> None:
        """Reloads the page and waits for it."""
        self._frames = ()
        self._native.reload(self._navigation_timeout)

    @property
    def window_handles(self) -> list[str]:
        """Handles of the browser's windows (tabs)."""
        return self._native.page_ids()

    @property
    def current_window_handle(self) -> str:
        """Handle of the current window; `NoSuchWindowException` after `close()`."""
        handle = self._native.current_page_id()
        if handle is None:
            raise NoSuchWindowException("the current window was closed; switch_to.window() first")
        return handle

    @property
    def switch_to(self) -> SwitchTo:
        """``switch_to.window(handle)``, ``switch_to.frame(ref)``, ``switch_to.default_content()``,
        ``switch_to.parent_frame()``."""
        return SwitchTo(self)

    @property
    def page_source(self) -> str:
        """The current DOM serialized as HTML."""
        return str(self._driver("source"))

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

        ``return`` gives the value; ``arguments[i]`` are `args`. Arguments and results are
        JSON-compatible values and `WebElement`s; a returned Promise is awaited. A thrown error
        raises `JavascriptError` (Selenium's ``JavascriptException``).

        >>> browser.execute_script("return arguments[0] + arguments[1]", 1, 2)
        3
        """
        return self._run_script(script, args, is_async=False)

    def execute_async_script(self, script: str, *args: Any) -> Any:
        """Runs `script` with a callback as its last argument; returns what it is called with.
        `TimeoutException` if it is not called within the script timeout."""
        return self._run_script(script, args, is_async=True)

    def _run_script(self, script: str, args: tuple[Any, ...], *, is_async: bool) -> Any:
        if not isinstance(script, str):
            raise TypeError(f"script must be a string, not {type(script).__name__}")
        try:
            encoded = self._to_json(list(args))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"execute_script arguments must be JSON-compatible: {exc}") from None
        limit_ms = int(self._script_timeout * 1000)
        return self._from_json(self._driver("run", script, encoded, is_async, limit_ms))

    def execute_cdp_cmd(self, cmd: str, cmd_args: dict[str, Any] | None = None) -> Any:
        """Sends a raw DevTools command to the current page (Selenium's ``execute_cdp_cmd``)."""
        params = json.dumps(cmd_args or {})
        return json.loads(self._native.command(cmd, params, self._script_timeout))

    def _evaluate(self, expression: str) -> Any:
        return json.loads(self._native.evaluate(expression, True, self._script_timeout))

    def _driver(self, op: str, *args: Any, frames: tuple[str, ...] | None = None) -> Any:
        """Runs an operation of the page script (js/driver.js) in the current frame (or in
        `frames`), mapping the errors it throws to Selenium's exceptions."""
        path = self._frames if frames is None else frames
        call = json.dumps([op, path, list(args)], allow_nan=False)
        try:
            return self._evaluate(f"({_IN_FRAME})({_DRIVER_SOURCE}, {call})")
        except JavascriptError as exc:
            match = _PAGE_ERROR.match(str(exc))
            name = match.group(1) if match else ""
            if name == "CrossOriginFrame":
                raise NotImplementedError(
                    "switch_to.frame into a cross-origin frame is not supported"
                ) from None
            error = _PAGE_ERRORS.get(name)
            if error is None or match is None:
                raise
            raise error(match.group(2).split("\n    at ")[0]) from None

    def _to_json(self, value: Any) -> Any:
        if isinstance(value, WebElement):
            return {ELEMENT_KEY: value.id}
        if isinstance(value, (list, tuple)):
            return [self._to_json(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self._to_json(v) for k, v in value.items()}
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        raise TypeError(f"{value!r} is not JSON-compatible")

    def _from_json(self, value: Any, frames: tuple[str, ...] | None = None) -> Any:
        path = self._frames if frames is None else frames
        if isinstance(value, list):
            return [self._from_json(v, path) for v in value]
        if isinstance(value, dict):
            if set(value) == {ELEMENT_KEY}:
                return WebElement(self, value[ELEMENT_KEY], path)
            return {k: self._from_json(v, path) for k, v in value.items()}
        return value

    # Elements

    def find_element(self, by: str = By.ID, value: str | None = None) -> WebElement:
        """The first element matching the locator (`By`, or Selenium's ``By``); waits up to the
        implicit wait for it. `NoSuchElementException` if none appears."""
        return self._find(by, value, root=None, many=False)[0]

    def find_elements(self, by: str = By.ID, value: str | None = None) -> list[WebElement]:
        """Every element matching the locator; waits up to the implicit wait for at least one."""
        return self._find(by, value, root=None, many=True)

    def _find(
        self, by: str, value: str | None, *, root: WebElement | None, many: bool
    ) -> list[WebElement]:
        if by not in _STRATEGIES:
            raise InvalidArgumentException(f"unknown locator strategy {by!r}; use chromeguard.By")
        if not isinstance(value, str):
            raise InvalidArgumentException(f"the locator value must be a string, not {value!r}")
        frames = self._frames if root is None else root._frames
        root_id = None if root is None else root.id
        if self._implicit_wait > 0:
            limit_ms = int(self._implicit_wait * 1000)
            found = self._driver("waitFind", root_id, by, value, limit_ms, frames=frames)
        else:
            found = self._driver("find", root_id, by, value, frames=frames)
        elements = [WebElement(self, ref[ELEMENT_KEY], frames) for ref in found]
        if not elements and not many:
            raise NoSuchElementException(f"no element matches {by} {value!r}")
        return elements

    def _click(self, element: WebElement) -> None:
        point = self._driver("clickPoint", element.id, frames=element._frames)
        x, y = point["x"], point["y"]
        # Mouse events use the top window's coordinates: add each frame's offset.
        for depth, frame_id in enumerate(element._frames):
            offset = self._driver("frameOffset", frame_id, frames=element._frames[:depth])
            x, y = x + offset["x"], y + offset["y"]
        base = {"x": x, "y": y, "button": "left", "clickCount": 1}
        self.execute_cdp_cmd(
            "Input.dispatchMouseEvent", {**base, "type": "mouseMoved", "button": "none"}
        )
        self.execute_cdp_cmd("Input.dispatchMouseEvent", {**base, "type": "mousePressed"})
        self.execute_cdp_cmd("Input.dispatchMouseEvent", {**base, "type": "mouseReleased"})

    def _send_keys(self, element: WebElement, text: str) -> None:
        if self._driver("isFileInput", element.id, frames=element._frames):
            files = [os.path.abspath(p) for p in text.split("\n") if p]
            missing = [f for f in files if not os.path.isfile(f)]
            if missing:
                raise InvalidArgumentException(f"file not found: {missing[0]}")
            if element._frames:
                raise NotImplementedError("send_keys to a file input inside a frame")
            expression = f"window.__chromeguardDriver.element({json.dumps(element.id)})"
            handle = self.execute_cdp_cmd("Runtime.evaluate", {"expression": expression})
            object_id = handle["result"]["objectId"]
            self.execute_cdp_cmd("DOM.setFileInputFiles", {"files": files, "objectId": object_id})
            return
        self._driver("focus", element.id, frames=element._frames)
        pending = ""
        for char in text:
            if "\ue000" <= char <= "\uf8ff":
                if pending:
                    self.execute_cdp_cmd("Input.insertText", {"text": pending})
                    pending = ""
                self._press(char)
            else:
                pending += char
        if pending:
            self.execute_cdp_cmd("Input.insertText", {"text": pending})

    def _press(self, char: str) -> None:
        event = _KEY_EVENTS.get(char)
        if event is None:
            raise NotImplementedError(
                f"send_keys: the special key U+{ord(char):04X} is not supported"
            )
        key, code, vk, typed = event
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk}
        if typed:
            down["text"] = typed
        self.execute_cdp_cmd("Input.dispatchKeyEvent", down)
        self.execute_cdp_cmd(
            "Input.dispatchKeyEvent",
            {"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk},
        )

    def _wait_in_page(self, predicate: str, args: list[Any], limit: float) -> bool:
        """Waits inside the page until `predicate` (a function body of ``args``) holds,
        re-checked on every DOM change; returns whether it did within `limit` seconds."""
        encoded = self._to_json(args)
        return bool(self._driver("waitUntil", predicate, encoded, max(int(limit * 1000), 1)))

    # Screenshots

    def _screenshot(self, element: WebElement | None = None) -> bytes:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if element is not None:
            if element._frames:
                raise NotImplementedError("screenshot of an element inside a frame")
            rect = self._driver("rect", element.id)
            scroll = self._evaluate("[window.scrollX, window.scrollY]")
            params["clip"] = {
                "x": rect["x"] + scroll[0],
                "y": rect["y"] + scroll[1],
                "width": max(rect["width"], 1),
                "height": max(rect["height"], 1),
                "scale": 1,
            }
        return base64.b64decode(self.execute_cdp_cmd("Page.captureScreenshot", params)["data"])

    def get_screenshot_as_png(self) -> bytes:
        """A PNG of the page."""
        return self._screenshot()

    def get_screenshot_as_base64(self) -> str:
        """The page's PNG, base64-encoded."""
        return base64.b64encode(self._screenshot()).decode()

    def save_screenshot(self, filename: str | os.PathLike[str]) -> bool:
        """Saves a PNG of the page to `filename`."""
        Path(filename).write_bytes(self._screenshot())
        return True

    # Cookies of the current page

    def get_cookies(self) -> list[dict[str, Any]]:
        """The cookies visible to the current page, in Selenium's format."""
        found = self.execute_cdp_cmd("Network.getCookies", {"urls": [self.current_url]})
        return [_selenium_cookie(c) for c in found["cookies"]]

    def get_cookie(self, name: str) -> dict[str, Any] | None:
        """The cookie `name` of the current page, or None."""
        return next((c for c in self.get_cookies() if c["name"] == name), None)

    def add_cookie(self, cookie_dict: dict[str, Any]) -> None:
        """Sets a cookie for the current page (``name`` and ``value`` required; ``domain``,
        ``path``, ``secure``, ``httpOnly``, ``expiry``, ``sameSite`` optional)."""
        if "name" not in cookie_dict or "value" not in cookie_dict:
            raise InvalidArgumentException("a cookie needs 'name' and 'value'")
        param: dict[str, Any] = {
            "name": str(cookie_dict["name"]),
            "value": str(cookie_dict["value"]),
        }
        for key in ("domain", "path", "secure", "httpOnly", "sameSite"):
            if cookie_dict.get(key) is not None:
                param[key] = cookie_dict[key]
        if cookie_dict.get("expiry") is not None:
            param["expires"] = cookie_dict["expiry"]
        url = self.current_url
        if "domain" in param:
            host = urlsplit(url).hostname or ""
            domain = str(param["domain"]).lstrip(".").lower()
            if host != domain and not host.endswith("." + domain):
                raise InvalidCookieDomainException(
                    f"cookie domain {param['domain']!r} does not match the current page ({host})"
                )
        else:
            param["url"] = url
        if not self.execute_cdp_cmd("Network.setCookie", param).get("success", True):
            raise UnableToSetCookieException(f"Chrome refused the cookie {param['name']!r}")

    def delete_cookie(self, name: str) -> None:
        """Deletes the cookie `name` of the current page."""
        for cookie in self.get_cookies():
            if cookie["name"] == name:
                self._delete(cookie)

    def delete_all_cookies(self) -> None:
        """Deletes every cookie visible to the current page."""
        for cookie in self.get_cookies():
            self._delete(cookie)

    def _delete(self, cookie: dict[str, Any]) -> None:
        params = {"name": cookie["name"], "domain": cookie["domain"], "path": cookie["path"]}
        self.execute_cdp_cmd("Network.deleteCookies", params)

    # Logins

    def storage_state(self) -> dict[str, Any]:
        """This browser's cookies (all of them) and the localStorage of the current page's
        origin, to restore into other browsers: ``create_browser(storage_state=...)``,
        ``scrape(..., storage_state=...)``, `SessionStore`."""
        cookies = self.execute_cdp_cmd("Network.getAllCookies")["cookies"]
        page = self._evaluate(
            "(() => { try { return [location.origin, Object.entries(localStorage)]; }"
            " catch (e) { return [location.origin, []]; } })()"
        )
        origin, items = page
        origins = []
        if items and origin and origin != "null":
            origins.append(
                {"origin": origin, "localStorage": [{"name": k, "value": v} for k, v in items]}
            )
        return {"cookies": cookies, "origins": origins}

    def _restore(self, state: StorageState) -> None:
        params = cookie_params(state)
        if params:
            self.execute_cdp_cmd("Network.setCookies", {"cookies": params})
        script = restore_script(state)
        if script:
            self.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})

    # Timeouts

    def set_page_load_timeout(self, time_to_wait: float) -> None:
        """How long `get()` waits for a page (`NavigationTimeout`, a `TimeoutException`)."""
        self._navigation_timeout = _positive_seconds("page load timeout", time_to_wait)

    def set_script_timeout(self, time_to_wait: float) -> None:
        """How long scripts may run (and async scripts may take to call back)."""
        self._script_timeout = _positive_seconds("script timeout", time_to_wait)

    def implicitly_wait(self, time_to_wait: float) -> None:
        """How long `find_element(s)` waits for a match (0 = not at all); the wait watches DOM
        changes rather than polling."""
        if (
            isinstance(time_to_wait, bool)
            or not isinstance(time_to_wait, (int, float))
            or time_to_wait < 0
        ):
            raise InvalidArgumentException(
                f"implicit wait must be >= 0 seconds, not {time_to_wait!r}"
            )
        self._implicit_wait = float(time_to_wait)

    def close(self) -> None:
        """Closes the current window, as Selenium does; closing the last one quits the browser
        (so with one window, `close()` and `quit()` are the same). Idempotent."""
        if self._native.is_alive():
            try:
                others = len(self._native.page_ids()) > 1
                current = self._native.current_page_id() is not None
            except BrowserClosedError:
                others = current = False
            if others and current:
                self._frames = ()
                self._native.close_page()
                return
        self.quit()

    def quit(self) -> None:
        """Stops Chrome and every process it started, and removes the profile. Idempotent."""
        self._native.close()

    def _finish(self) -> None:
        self.quit()

    def __getattr__(self, name: str) -> NoReturn:
        if name in _UNSUPPORTED:
            raise NotImplementedError(f"chromeguard does not support Selenium's {name}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"pid={self.pid}"
        return f"<chromeguard.Browser {state} profile={self.profile_dir!r}>"


class SwitchTo:
    """What ``browser.switch_to`` returns: moves between windows and frames."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser

    def window(self, window_name: str) -> None:
        """Makes the window with handle `window_name` current (and its top frame)."""
        self._browser._native.switch_page(window_name)
        self._browser._frames = ()

    def frame(self, frame_reference: str | int | WebElement) -> None:
        """Enters a frame of the current one: by index, name or id, or frame element."""
        mark: Any = frame_reference
        if isinstance(frame_reference, WebElement):
            mark = {ELEMENT_KEY: frame_reference.id}
        ref = self._browser._driver("frame", mark)
        self._browser._frames = (*self._browser._frames, ref[ELEMENT_KEY])

    def default_content(self) -> None:
        """Back to the top-level document."""
        self._browser._frames = ()

    @property
    def active_element(self) -> WebElement:
        """The focused element (the body when nothing is focused)."""
        found = self._browser.execute_script("return document.activeElement || document.body")
        if not isinstance(found, WebElement):
            raise NoSuchElementException("the page has no focused element")
        return found

    @property
    def alert(self) -> Any:
        """Not supported: JavaScript dialogs are not exposed."""
        raise NotImplementedError("chromeguard does not support Selenium's switch_to.alert")

    def parent_frame(self) -> None:
        """Back to the parent of the current frame (stays at the top)."""
        self._browser._frames = self._browser._frames[:-1]


def _selenium_cookie(cookie: dict[str, Any]) -> dict[str, Any]:
    """A CDP cookie in Selenium's shape."""
    out: dict[str, Any] = {
        key: cookie[key]
        for key in ("name", "value", "domain", "path", "secure", "httpOnly")
        if key in cookie
    }
    if cookie.get("sameSite"):
        out["sameSite"] = cookie["sameSite"]
    if not cookie.get("session", False) and cookie.get("expires", -1) > 0:
        out["expiry"] = int(cookie["expires"])
    return out


def _positive_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentException(
            f"{name} must be a positive number of seconds, not {value!r}"
        )
    return float(value)


def create_browser(**options: Any) -> Browser:
    """Launches an isolated headless Chrome and returns it.

    `options` are those of `Config`; they override `configure()` and the environment; and
    ``storage_state`` (a dict or a JSON file from `Browser.storage_state` or `SessionStore`)
    restores cookies and localStorage into the fresh profile before the first navigation.
    Launches from many threads are safe: only the start-up itself is serialized, with the GIL
    released.

    Raises `BrowserLaunchError` (see its ``reason``) when Chrome cannot start, `ConfigError` for
    an invalid option.
    """
    return launch_browser(options, None)


def launch_browser(options: dict[str, Any], cancel: _native.CancelToken | None) -> Browser:
    """`create_browser` that `cancel` can stop (for `chromeguard.aio`)."""
    state = options.pop("storage_state", None)
    restored = None if state is None else load_state(state)
    config = resolve_config(**options)
    _logging.sync_level()
    native = _native.launch(launch_args(config), cancel)
    browser = Browser(native, config.navigation_timeout)
    if restored is not None:
        try:
            browser._restore(restored)
        except BaseException:
            browser.quit()
            raise
    return browser
