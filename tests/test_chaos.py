"""Chaos: Chrome and pages misbehaving. In every case a defined exception or result comes within
the scrape's timeout, the pool serves the next scrape, and nothing is left behind (the pool
fixture checks contexts; the conftest checks processes and profile directories)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import chromeguard
from chromeguard import BrowserPool, ScrapeResult

from ._pool import stray_contexts
from ._procs import processes_using
from ._site import Site


@pytest.fixture
def pool() -> Iterator[BrowserPool]:
    with BrowserPool(size=2) as running:
        yield running
        assert running.stats()["in_use"] == 0
        assert stray_contexts(running) == 0


def healthy(pool: BrowserPool, site: Site) -> None:
    assert pool.scrape(site.url("/about.html")).title == "About us"


def test_page_looping_forever_in_javascript(pool: BrowserPool, site: Site) -> None:
    started = time.monotonic()
    with pytest.raises(chromeguard.ScrapeTimeout):
        pool.scrape(site.url("/loop.html"), timeout=2)
    assert time.monotonic() - started < 3
    healthy(pool, site)


def test_page_that_never_finishes_loading(pool: BrowserPool, site: Site) -> None:
    started = time.monotonic()
    with pytest.raises(chromeguard.ScrapeTimeout):
        pool.scrape(site.url("/never"), timeout=2)
    assert time.monotonic() - started < 3
    healthy(pool, site)


def test_page_opening_50_popups(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/popups.html"))
    assert result.title == "popups"
    assert [d.url for d in result.downloads] == [site.url("/files/archive.zip")]
    healthy(pool, site)


def test_50_mb_page(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/big"), timeout=60, resolve=False)
    assert result.title == "big"
    healthy(pool, site)


def test_download_that_never_ends(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/endless-download"), timeout=10)
    [download] = result.downloads
    assert (download.source, download.filename) == ("network", "endless.bin")
    healthy(pool, site)


def test_server_resetting_connections(pool: BrowserPool, site: Site) -> None:
    with pytest.raises(chromeguard.NavigationError) as info:
        pool.scrape(site.url("/reset"))
    assert info.value.error_text in ("net::ERR_CONNECTION_RESET", "net::ERR_EMPTY_RESPONSE")
    healthy(pool, site)


def test_renderer_killed_mid_scrape(pool: BrowserPool, site: Site, profile_root: Path) -> None:
    outcome: list[ScrapeResult | BaseException] = []

    def run() -> None:
        try:
            outcome.append(pool.scrape(site.url("/slow?s=1"), timeout=20))
        except BaseException as exc:
            outcome.append(exc)

    healthy(pool, site)
    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 10
    victims: list[int] = []
    while not victims and time.monotonic() < deadline:
        time.sleep(0.05)
        for pid in processes_using(profile_root):
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"--type=renderer" in args:
                victims.append(pid)
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    runner.join()
    [result] = outcome
    assert isinstance(result, ScrapeResult), result
    assert result.status == 200
    healthy(pool, site)


def test_chrome_exiting_during_launch(tmp_path: Path, chrome_path: str) -> None:
    dies = tmp_path / "dies-during-launch"
    # Chrome starts without its DevTools pipe and is killed while the launch waits for it.
    dies.write_text(f'#!/bin/sh\n{chrome_path} "$@" 3<&- 4>&- & sleep 0.2; kill -9 $!; exit 1\n')
    dies.chmod(0o755)
    with BrowserPool(
        size=1, executable_path=str(dies), launch_retries=1, backoff_initial=0.01
    ) as broken:
        with pytest.raises(chromeguard.BrowserLaunchError) as info:
            broken.scrape("http://127.0.0.1:9/")
        assert info.value.attempts == 2


def test_profile_root_not_writable(tmp_path: Path, site: Site) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with (
        BrowserPool(size=1, profile_root=str(blocked / "profiles"), launch_retries=0) as broken,
        pytest.raises(chromeguard.BrowserLaunchError, match="profile_root"),
    ):
        broken.scrape(site.url("/about.html"))
