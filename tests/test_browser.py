"""Launch, use and close real Chromium: the scenarios of the old test_browser_fix.py and the
core guarantees (isolation, no leaks, no TCP port, GIL released)."""

from __future__ import annotations

import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import chromeguard
from chromeguard import BrowserClosedError

from ._procs import group_members, listening_inodes, processes_using, socket_inodes
from ._site import Site


def _use(browser: chromeguard.Browser, site: Site) -> str:
    browser.get(site.url("/"))
    assert browser.title == "Fixture home"
    return browser.profile_dir


def test_sequential_create_use_close(site: Site, profile_root: Path) -> None:
    dirs = []
    for _ in range(10):
        browser = chromeguard.create_browser()
        dirs.append(_use(browser, site))
        browser.close()
        assert not os.path.exists(browser.profile_dir)
        assert processes_using(profile_root) == []
    assert len(set(dirs)) == 10


def test_concurrent_launches_from_8_threads(site: Site, profile_root: Path) -> None:
    barrier = threading.Barrier(8)

    def job(_: int) -> tuple[str, int]:
        barrier.wait()
        with chromeguard.create_browser() as browser:
            return _use(browser, site), browser.pid

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(job, range(8)))
    dirs = [d for d, _ in results]
    assert len(set(dirs)) == 8
    assert len({pid for _, pid in results}) == 8
    assert processes_using(profile_root) == []
    assert not any(os.path.exists(d) for d in dirs)


def test_page_basics(site: Site) -> None:
    with chromeguard.create_browser() as browser:
        browser.get(site.url("/about.html"))
        assert browser.current_url == site.url("/about.html")
        assert browser.title == "About us"
        assert '<p id="text">About page</p>' in browser.page_source
        assert browser.execute_script("return arguments[0] + arguments[1]", 2, 3) == 5
        assert browser.execute_script("return {a: [1, 'x', null, true]}") == {
            "a": [1, "x", None, True]
        }
        assert browser.execute_script("document.title = 'changed'") is None
        assert browser.title == "changed"
        assert browser.execute_script("return new Promise(r => setTimeout(() => r(7), 10))") == 7
        assert browser.execute_script("return arguments[0].k", {"k": "v"}) == "v"
        with pytest.raises(chromeguard.JavascriptError, match="boom"):
            browser.execute_script("throw new Error('boom')")
        with pytest.raises(TypeError, match="JSON-compatible"):
            browser.execute_script("return 1", object())
        result = browser.execute_cdp_cmd("Runtime.evaluate", {"expression": "6*7"})
        assert result["result"]["value"] == 42
        assert browser.version.startswith("HeadlessChrome/")
        assert browser.is_alive()


def test_http_error_status_is_not_an_exception(site: Site) -> None:
    with chromeguard.create_browser() as browser:
        browser.get(site.url("/status/404"))
        assert browser.title == "status 404"


def test_refused_connection_raises_navigation_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with chromeguard.create_browser() as browser:
        with pytest.raises(chromeguard.NavigationError) as info:
            browser.get(f"http://127.0.0.1:{port}/")
        assert info.value.error_text == "net::ERR_CONNECTION_REFUSED"
        assert browser.is_alive()


def test_slow_page_raises_navigation_timeout(site: Site) -> None:
    with chromeguard.create_browser(navigation_timeout=0.5) as browser:
        with pytest.raises(chromeguard.NavigationTimeout) as info:
            browser.get(site.url("/slow?s=5"))
        assert isinstance(info.value, TimeoutError)
        browser.get(site.url("/about.html"))
        assert browser.title == "About us"


def test_invalid_url_raises_invalid_url_error() -> None:
    with chromeguard.create_browser() as browser:
        with pytest.raises(chromeguard.InvalidUrlError):
            browser.get("not a url")
        with pytest.raises(TypeError):
            browser.get(None)  # type: ignore[arg-type]


def test_profile_dir_is_private_and_holds_chromes_tmpdir(profile_root: Path) -> None:
    with chromeguard.create_browser() as browser:
        profile = Path(browser.profile_dir)
        assert profile.parent == profile_root
        assert stat.S_IMODE(profile.stat().st_mode) == 0o700
        assert stat.S_IMODE(profile_root.stat().st_mode) == 0o700
        assert Path(browser.user_data_dir).is_relative_to(profile)
        environ = Path(f"/proc/{browser.pid}/environ").read_bytes().split(b"\0")
        tmpdir = next(e[7:].decode() for e in environ if e.startswith(b"TMPDIR="))
        # Deep roots get a short link so Chrome's socket paths fit in 107 bytes.
        assert len(tmpdir) <= 60
        assert Path(tmpdir).resolve() == profile / "tmp"
    assert not os.path.lexists(tmpdir)


def test_no_tcp_listening_socket(site: Site) -> None:
    with chromeguard.create_browser() as browser:
        browser.get(site.url("/"))
        members = group_members(browser.pid)
        assert browser.pid in members and len(members) > 1
        ours = set().union(*(socket_inodes(pid) for pid in members))
        assert ours.isdisjoint(listening_inodes())
        for pid in members:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert b"--remote-debugging-port" not in cmdline


def test_whole_process_group_is_gone_after_close(site: Site) -> None:
    browser = chromeguard.create_browser()
    browser.get(site.url("/"))
    assert len(group_members(browser.pid)) > 1
    browser.close()
    assert group_members(browser.pid) == []


def test_closed_browser_raises_and_close_is_idempotent(site: Site) -> None:
    browser = chromeguard.create_browser()
    browser.close()
    browser.quit()
    assert browser.closed and not browser.is_alive()
    for call in (
        lambda: browser.get(site.url("/")),
        lambda: browser.title,
        lambda: browser.execute_script("return 1"),
    ):
        with pytest.raises(BrowserClosedError, match="create_browser"):
            call()


def test_crashed_chrome_raises_browser_closed_and_still_cleans_up(
    site: Site, profile_root: Path
) -> None:
    browser = chromeguard.create_browser()
    os.kill(browser.pid, 9)
    with pytest.raises(BrowserClosedError):
        browser.get(site.url("/"))
    assert not browser.is_alive()
    browser.close()
    assert not os.path.exists(browser.profile_dir)


def test_dropped_browser_is_closed(profile_root: Path) -> None:
    import gc

    browser = chromeguard.create_browser()
    profile = browser.profile_dir
    del browser
    gc.collect()
    assert processes_using(profile_root) == []
    assert not os.path.exists(profile)


def test_gil_is_released_during_launch() -> None:
    counter = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal counter
        while not stop.is_set():
            counter += 1

    thread = threading.Thread(target=count)
    thread.start()
    try:
        before = counter
        browser = chromeguard.create_browser()
        during = counter - before
    finally:
        stop.set()
        thread.join()
    browser.close()
    assert during > 1000, f"the counting thread advanced only {during} times during a launch"


def test_stats_count_launches_and_removals() -> None:
    before = chromeguard.stats()
    with chromeguard.create_browser():
        assert chromeguard.stats()["active_browsers"] == before["active_browsers"] + 1
    after = chromeguard.stats()
    assert after["launches"] == before["launches"] + 1
    assert after["profiles_removed"] == before["profiles_removed"] + 1
    assert after["active_browsers"] == before["active_browsers"]
    for key in (
        "launches",
        "launch_attempts",
        "launch_failures",
        "retries",
        "active_browsers",
        "profiles_removed",
        "stale_profiles_removed",
    ):
        assert isinstance(after[key], int)
