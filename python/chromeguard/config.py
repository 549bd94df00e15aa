"""Configuration: built-in defaults < `configure()` < ``CHROMEGUARD_*`` environment variables <
keyword options of each call.

Every option, its environment variable and its default:

======================  ===============================  ==========================================
option                  environment variable             default
======================  ===============================  ==========================================
executable_path         CHROMEGUARD_CHROME_PATH          discovered (headless shell first)
headless                CHROMEGUARD_HEADLESS             True
sandbox                 CHROMEGUARD_SANDBOX              None: off when running as root, else on
extra_args              CHROMEGUARD_EXTRA_ARGS           () (shell-quoted in the variable)
window_size             CHROMEGUARD_WINDOW_SIZE          (1280, 720) ("1280x720" in the variable)
user_agent              CHROMEGUARD_USER_AGENT           None: Chrome's own
proxy                   CHROMEGUARD_PROXY                None
launch_retries          CHROMEGUARD_LAUNCH_RETRIES       2
backoff_initial         CHROMEGUARD_BACKOFF_INITIAL      0.1 s
backoff_max             CHROMEGUARD_BACKOFF_MAX          2.0 s
launch_timeout          CHROMEGUARD_LAUNCH_TIMEOUT       30.0 s
navigation_timeout      CHROMEGUARD_NAVIGATION_TIMEOUT   30.0 s
profile_root            CHROMEGUARD_PROFILE_ROOT         <tempdir>/chromeguard-<uid>
user_data_dir           CHROMEGUARD_USER_DATA_DIR        None: a fresh private profile per browser
pool_size               CHROMEGUARD_POOL_SIZE            None: the number of CPUs
max_uses                CHROMEGUARD_MAX_USES             100 contexts per pool browser
acquire_timeout         CHROMEGUARD_ACQUIRE_TIMEOUT      30.0 s
allow_file_urls         CHROMEGUARD_ALLOW_FILE_URLS      False
block_private_networks  CHROMEGUARD_BLOCK_PRIVATE_NET..  False
remote_endpoints        CHROMEGUARD_REMOTE_ENDPOINTS     () (space- or comma-separated)
======================  ===============================  ==========================================
"""

from __future__ import annotations

import difflib
import math
import os
import shlex
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict, Union

from . import _native
from .errors import ConfigError

__all__ = ["Config", "configure", "current_config", "resolve_config"]

PathLike = Union[str, "os.PathLike[str]"]

ENV_NAMES: dict[str, str] = {
    "executable_path": "CHROMEGUARD_CHROME_PATH",
    "headless": "CHROMEGUARD_HEADLESS",
    "sandbox": "CHROMEGUARD_SANDBOX",
    "extra_args": "CHROMEGUARD_EXTRA_ARGS",
    "window_size": "CHROMEGUARD_WINDOW_SIZE",
    "user_agent": "CHROMEGUARD_USER_AGENT",
    "proxy": "CHROMEGUARD_PROXY",
    "launch_retries": "CHROMEGUARD_LAUNCH_RETRIES",
    "backoff_initial": "CHROMEGUARD_BACKOFF_INITIAL",
    "backoff_max": "CHROMEGUARD_BACKOFF_MAX",
    "launch_timeout": "CHROMEGUARD_LAUNCH_TIMEOUT",
    "navigation_timeout": "CHROMEGUARD_NAVIGATION_TIMEOUT",
    "profile_root": "CHROMEGUARD_PROFILE_ROOT",
    "user_data_dir": "CHROMEGUARD_USER_DATA_DIR",
    "pool_size": "CHROMEGUARD_POOL_SIZE",
    "max_uses": "CHROMEGUARD_MAX_USES",
    "acquire_timeout": "CHROMEGUARD_ACQUIRE_TIMEOUT",
    "allow_file_urls": "CHROMEGUARD_ALLOW_FILE_URLS",
    "block_private_networks": "CHROMEGUARD_BLOCK_PRIVATE_NETWORKS",
    "remote_endpoints": "CHROMEGUARD_REMOTE_ENDPOINTS",
}


@dataclass(frozen=True, init=False)
class Config:
    """Every option of chromeguard, validated on construction. Immutable; keyword-only.

    >>> cfg = Config(launch_retries=5, sandbox=False)
    >>> cfg.replace(headless=False).headless
    False

    Options:
        executable_path: the Chrome binary; None discovers one (the headless shell first when
            `headless`, then chromium, google-chrome, ... on PATH and /usr/lib/chromium).
        headless: run without a window.
        sandbox: Chrome's sandbox; None means off when running as root (Chrome refuses to
            start sandboxed as root), on otherwise.
        extra_args: further Chrome switches (each starting with ``--``); switches that would
            open a debugging port or change the profile are rejected.
        window_size: (width, height) in pixels, or None for Chrome's default.
        user_agent: the User-Agent header, or None for Chrome's.
        proxy: a proxy server such as ``http://127.0.0.1:3128``.
        launch_retries: how many times a failed start is retried (transient failures only).
        backoff_initial: first retry delay ceiling in seconds (exponential, full jitter).
        backoff_max: largest retry delay ceiling in seconds.
        launch_timeout: seconds a start may take until DevTools answers.
        navigation_timeout: seconds `Browser.get` waits for the page to load.
        profile_root: where per-browser profile directories are created (mode 0700).
        user_data_dir: a persistent profile to use instead of a fresh one; never deleted.
        pool_size: scrapes a pool runs at once; None means the number of CPUs.
        max_uses: browser contexts a pool browser serves before it is replaced.
        acquire_timeout: seconds a scrape waits for room in the pool (then `PoolTimeout`).
        allow_file_urls: let `scrape()` load ``file:`` URLs.
        block_private_networks: refuse loopback, private, link-local and metadata addresses,
            checked on the resolved address of every request a scrape makes.
        remote_endpoints: browsers that run elsewhere for pools to attach to instead of
            launching (``ws://`` DevTools URLs or ``http://host:port``), round-robin.
    """

    executable_path: str | None
    headless: bool
    sandbox: bool | None
    extra_args: tuple[str, ...]
    window_size: tuple[int, int] | None
    user_agent: str | None
    proxy: str | None
    launch_retries: int
    backoff_initial: float
    backoff_max: float
    launch_timeout: float
    navigation_timeout: float
    profile_root: str | None
    user_data_dir: str | None
    pool_size: int | None
    max_uses: int
    acquire_timeout: float
    allow_file_urls: bool
    block_private_networks: bool
    remote_endpoints: tuple[str, ...]

    def __init__(
        self,
        *,
        executable_path: PathLike | None = None,
        headless: bool = True,
        sandbox: bool | None = None,
        extra_args: Sequence[str] = (),
        window_size: tuple[int, int] | None = (1280, 720),
        user_agent: str | None = None,
        proxy: str | None = None,
        launch_retries: int = 2,
        backoff_initial: float = 0.1,
        backoff_max: float = 2.0,
        launch_timeout: float = 30.0,
        navigation_timeout: float = 30.0,
        profile_root: PathLike | None = None,
        user_data_dir: PathLike | None = None,
        pool_size: int | None = None,
        max_uses: int = 100,
        acquire_timeout: float = 30.0,
        allow_file_urls: bool = False,
        block_private_networks: bool = False,
        remote_endpoints: Sequence[str] = (),
    ) -> None:
        values: dict[str, Any] = {
            "executable_path": _optional_path("executable_path", executable_path),
            "headless": _boolean("headless", headless),
            "sandbox": None if sandbox is None else _boolean("sandbox", sandbox),
            "extra_args": _extra_args(extra_args),
            "window_size": _window_size(window_size),
            "user_agent": _optional_text("user_agent", user_agent),
            "proxy": _optional_text("proxy", proxy),
            "launch_retries": _count("launch_retries", launch_retries),
            "backoff_initial": _seconds("backoff_initial", backoff_initial, allow_zero=True),
            "backoff_max": _seconds("backoff_max", backoff_max, allow_zero=True),
            "launch_timeout": _seconds("launch_timeout", launch_timeout),
            "navigation_timeout": _seconds("navigation_timeout", navigation_timeout),
            "profile_root": _optional_path("profile_root", profile_root),
            "user_data_dir": _optional_path("user_data_dir", user_data_dir),
            "pool_size": None if pool_size is None else _positive("pool_size", pool_size),
            "max_uses": _positive("max_uses", max_uses),
            "acquire_timeout": _seconds("acquire_timeout", acquire_timeout),
            "allow_file_urls": _boolean("allow_file_urls", allow_file_urls),
            "block_private_networks": _boolean("block_private_networks", block_private_networks),
            "remote_endpoints": _endpoints(remote_endpoints),
        }
        if values["backoff_max"] < values["backoff_initial"]:
            raise ConfigError(
                f"backoff_max ({values['backoff_max']}) must be >= backoff_initial "
                f"({values['backoff_initial']})"
            )
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes` applied (validated like the constructor)."""
        check_option_names(changes)
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The options as a plain dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def effective_sandbox(self) -> bool:
        """`sandbox` with None resolved: off when running as root, on otherwise."""
        if self.sandbox is not None:
            return self.sandbox
        return os.geteuid() != 0

    @property
    def effective_pool_size(self) -> int:
        """`pool_size`, or the number of CPUs."""
        return self.pool_size if self.pool_size is not None else (os.cpu_count() or 1)

    @property
    def effective_profile_root(self) -> str:
        """`profile_root`, or the per-user default under the system temp dir."""
        if self.profile_root is not None:
            return self.profile_root
        return os.path.join(tempfile.gettempdir(), f"chromeguard-{os.getuid()}")


OPTION_NAMES = tuple(f.name for f in fields(Config))


def check_option_names(options: Mapping[str, Any]) -> None:
    """Raises `ConfigError` for an unknown option, suggesting the closest name."""
    for name in options:
        if name not in OPTION_NAMES:
            close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown option {name!r}{hint}")


def _boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, not {value!r}")
    return value


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, not {value!r}")
    return value


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, not {value!r}")
    return value


def _seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number of seconds {bound}, not {value!r}")
    return seconds


def _optional_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or "\n" in value or "\x00" in value:
        raise ConfigError(f"{name} must be a non-empty single-line string or None, not {value!r}")
    return value


def _optional_path(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{name} must be a path or None, not {value!r}")
    path = os.fspath(value)
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ConfigError(f"{name} must be a non-empty path, not {value!r}")
    return os.path.abspath(os.path.expanduser(path))


def _window_size(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 16384 for v in value)
    ):
        return (value[0], value[1])
    raise ConfigError(
        f"window_size must be (width, height) with 1..16384 pixels each, or None, not {value!r}"
    )


def _extra_args(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"extra_args must be a list of strings, not {value!r}")
    args = tuple(value)
    for arg in args:
        if not isinstance(arg, str):
            raise ConfigError(f"extra_args must be a list of strings; {arg!r} is not one")
    _native.check_extra_args(list(args))
    return args


def _endpoints(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"remote_endpoints must be a list of URLs, not {value!r}")
    for endpoint in value:
        if not isinstance(endpoint, str):
            raise ConfigError(f"remote_endpoints must be strings; {endpoint!r} is not one")
        _native.check_remote_endpoint(endpoint)
    return tuple(value)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse_env(name: str, variable: str, text: str) -> Any:
    """Converts one environment variable to the option's type."""
    text = text.strip()
    if name in ("headless", "sandbox", "allow_file_urls", "block_private_networks"):
        lowered = text.lower()
        if name == "sandbox" and lowered in ("", "auto"):
            return None
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{variable}={text!r} is not a boolean; use 1 or 0")
    if name in ("launch_retries", "pool_size", "max_uses"):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{variable}={text!r} is not an integer") from None
    if name in (
        "backoff_initial",
        "backoff_max",
        "launch_timeout",
        "navigation_timeout",
        "acquire_timeout",
    ):
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{variable}={text!r} is not a number of seconds") from None
    if name == "extra_args":
        return tuple(shlex.split(text))
    if name == "remote_endpoints":
        return tuple(text.replace(",", " ").split())
    if name == "window_size":
        parts = text.lower().replace(",", "x").split("x")
        try:
            width, height = (int(p) for p in parts)
        except ValueError:
            raise ConfigError(f"{variable}={text!r} is not a size like 1280x720") from None
        return (width, height)
    return text or None


def env_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The options set through ``CHROMEGUARD_*`` environment variables."""
    environ = os.environ if environ is None else environ
    return {
        name: _parse_env(name, variable, environ[variable])
        for name, variable in ENV_NAMES.items()
        if variable in environ
    }


_lock = threading.Lock()
_configured: dict[str, Any] = {}


def configure(**options: Any) -> Config:
    """Sets process-wide defaults for later calls and returns the resulting configuration.

    Environment variables still override these, and keyword options of each call override
    both. Options are validated at once. The default scrape pool is closed, so the next
    `scrape()` starts one with the new settings.

    >>> chromeguard.configure(launch_retries=4, navigation_timeout=15).launch_retries
    4
    """
    check_option_names(options)
    with _lock:
        candidate = {**_configured, **options}
        Config(**candidate)
        _configured.clear()
        _configured.update(candidate)
    for listener in _listeners:
        listener()
    return resolve_config()


_listeners: list[Callable[[], None]] = []


def on_configure(listener: Callable[[], None]) -> None:
    """Calls `listener` after every successful `configure()`."""
    _listeners.append(listener)


def current_config() -> Config:
    """The configuration a call without options would use."""
    return resolve_config()


def resolve_config(**overrides: Any) -> Config:
    """Defaults, then `configure()`, then the environment, then `overrides`."""
    check_option_names(overrides)
    with _lock:
        configured = dict(_configured)
    return Config(**{**configured, **env_options(), **overrides})


def reset_configuration() -> None:
    """Forgets everything set with `configure()` (for tests and long-lived reconfiguration)."""
    with _lock:
        _configured.clear()


class LaunchArgs(TypedDict):
    """Launch options as the native core takes them."""

    executable_path: str | None
    headless: bool
    sandbox: bool
    extra_args: list[str]
    window_size: tuple[int, int] | None
    user_agent: str | None
    proxy: str | None
    launch_retries: int
    backoff_initial: float
    backoff_max: float
    launch_timeout: float
    profile_root: str
    user_data_dir: str | None


def launch_args(config: Config) -> LaunchArgs:
    """The launch options of `config` as the native core takes them."""
    return {
        "executable_path": config.executable_path,
        "headless": config.headless,
        "sandbox": config.effective_sandbox,
        "extra_args": list(config.extra_args),
        "window_size": config.window_size,
        "user_agent": config.user_agent,
        "proxy": config.proxy,
        "launch_retries": config.launch_retries,
        "backoff_initial": config.backoff_initial,
        "backoff_max": config.backoff_max,
        "launch_timeout": config.launch_timeout,
        "profile_root": config.effective_profile_root,
        "user_data_dir": config.user_data_dir,
    }
