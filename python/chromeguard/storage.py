"""Logins that persist without a shared profile: `storage_state` (cookies and localStorage) and
`SessionStore`, named states on disk that many browsers can restore at once, each into its own
fresh profile."""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .browser import Browser

__all__ = ["SessionStore", "StorageState", "load_state", "restore_script"]

StorageState = dict[str, Any]
"""``{"cookies": [CDP cookies], "origins": [{"origin", "localStorage": [{"name", "value"}]}]}``"""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_COOKIE_FIELDS = ("name", "value", "domain", "path", "secure", "httpOnly", "sameSite", "expires")


def load_state(state: Mapping[str, Any] | str | os.PathLike[str]) -> StorageState:
    """A storage state given as a dict or as the path of a JSON file; validated."""
    if isinstance(state, (str, os.PathLike)):
        path = Path(state)
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the storage state {str(path)!r}: {exc}") from None
    if not isinstance(state, Mapping):
        raise ConfigError(f"a storage state is a dict with 'cookies' and 'origins', not {state!r}")
    cookies = state.get("cookies", [])
    origins = state.get("origins", [])
    if not isinstance(cookies, list) or not isinstance(origins, list):
        raise ConfigError("a storage state's 'cookies' and 'origins' must be lists")
    for cookie in cookies:
        if not isinstance(cookie, Mapping) or "name" not in cookie or "value" not in cookie:
            raise ConfigError(f"a stored cookie needs 'name' and 'value', not {cookie!r}")
    return {"cookies": [dict(c) for c in cookies], "origins": [dict(o) for o in origins]}


def cookie_params(state: StorageState) -> list[dict[str, Any]]:
    """The state's cookies as CDP ``Network.CookieParam``s."""
    params = []
    for cookie in state["cookies"]:
        param = {k: cookie[k] for k in _COOKIE_FIELDS if cookie.get(k) is not None}
        if param.get("expires", 0) <= 0 or cookie.get("session"):
            param.pop("expires", None)
        params.append(param)
    return params


def restore_script(state: StorageState) -> str | None:
    """A script that fills localStorage of each stored origin in the first document of that
    origin a tab loads (later documents keep what the page changed)."""
    stored = {
        o["origin"]: {i["name"]: i["value"] for i in o.get("localStorage", [])}
        for o in state["origins"]
        if isinstance(o, Mapping) and o.get("origin") and o.get("localStorage")
    }
    if not stored:
        return None
    return (
        "(() => { const stored = " + json.dumps(stored) + "[location.origin];"
        " if (!stored || sessionStorage.getItem('__chromeguard_restored')) return;"
        " for (const [k, v] of Object.entries(stored)) localStorage.setItem(k, v);"
        " sessionStorage.setItem('__chromeguard_restored', '1'); })()"
    )


class SessionStore:
    """Named storage states in `directory` (created 0700; files 0600, written atomically, under
    a lock so two processes never corrupt a state).

    >>> store = chromeguard.SessionStore("/var/lib/myapp/sessions")
    >>> store.save("shop-login", browser)
    >>> with store.browser("shop-login") as logged_in:
    ...     logged_in.get("https://shop.example/account")
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(
                f"a session name is letters, digits, '.', '_' and '-' (no path), not {name!r}"
            )
        return self.directory / f"{name}.json"

    @contextmanager
    def _locked(self, name: str, exclusive: bool) -> Iterator[Path]:
        path = self._path(name)
        lock_path = path.with_suffix(".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield path
        finally:
            os.close(fd)

    def save(self, name: str, browser: Browser) -> StorageState:
        """Stores `browser`'s cookies and the localStorage of its page under `name`."""
        return self.save_state(name, browser.storage_state())

    def save_state(self, name: str, state: Mapping[str, Any]) -> StorageState:
        """Stores a storage state under `name` (atomically, mode 0600)."""
        checked = load_state(state)
        with self._locked(name, exclusive=True) as path:
            fd, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=self.directory)
            try:
                with os.fdopen(fd, "w") as file:
                    json.dump(checked, file)
                    file.flush()
                    os.fsync(file.fileno())
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        return checked

    def load(self, name: str) -> StorageState:
        """The state stored under `name`; `KeyError` if there is none."""
        with self._locked(name, exclusive=False) as path:
            if not path.exists():
                raise KeyError(name)
            return load_state(path)

    def names(self) -> list[str]:
        """The stored names."""
        return sorted(p.stem for p in self.directory.glob("*.json"))

    def browser(self, name: str, **options: Any) -> Browser:
        """A new browser, in its own fresh profile, logged in with the state `name`."""
        from .browser import create_browser

        return create_browser(storage_state=self.load(name), **options)
