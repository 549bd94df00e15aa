"""Scale-out: pools that attach to browsers running elsewhere (here two Chromium processes with
--remote-debugging-port on 127.0.0.1), round-robin, surviving the loss of one mid-run, and
never stopping them."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import chromeguard
from chromeguard import BrowserPool, ScrapeResult

from ._pool import stray_contexts
from ._site import Site


class RemoteChrome:
    """A Chromium started by the test with a DevTools port, as a browser farm would run it."""

    def __init__(self, binary: str, profile: Path) -> None:
        args = [binary, "--headless", "--remote-debugging-port=0", f"--user-data-dir={profile}"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, "TMPDIR": str(profile)},
        )
        assert self.process.stderr is not None
        deadline = time.monotonic() + 30
        self.ws_url = ""
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if line.startswith("DevTools listening on "):
                self.ws_url = line.split()[-1]
                break
            if not line and self.process.poll() is not None:
                break
        assert self.ws_url.startswith("ws://"), "the remote Chromium did not start"
        # Keep draining stderr so the process never blocks on it.
        self.drain = threading.Thread(target=self.process.stderr.read, daemon=True)
        self.drain.start()

    @property
    def http_url(self) -> str:
        return "http://" + self.ws_url.split("/")[2]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.drain.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def remotes(tmp_path: Path, chrome_path: str) -> Iterator[list[RemoteChrome]]:
    started: list[RemoteChrome] = []
    try:
        for n in range(2):
            started.append(RemoteChrome(chrome_path, tmp_path / f"remote-{n}"))
        yield started
    finally:
        for remote in started:
            remote.kill()


def test_pool_attaches_round_robin_and_never_stops_remotes(
    remotes: list[RemoteChrome], site: Site, profile_root: Path
) -> None:
    endpoints = [remotes[0].ws_url, remotes[1].http_url]
    with BrowserPool(size=4, remote_endpoints=endpoints) as pool:
        results = pool.scrape_many([site.url("/downloads.html"), site.url("/about.html")] * 4)
        assert all(isinstance(r, ScrapeResult) for r in results), results
        assert results[0].title == "Every kind of download"  # type: ignore[union-attr]
        assert pool.stats()["browsers_launched"] == 2, "one connection per endpoint"
        assert stray_contexts(pool) == 0, "every context a scrape opened was closed"
    assert all(r.process.poll() is None for r in remotes), "remote browsers are never stopped"
    assert list(profile_root.glob("chromeguard-*")) == [], "nothing launched locally"


def test_a_remote_killed_mid_run_is_skipped(remotes: list[RemoteChrome], site: Site) -> None:
    endpoints = [r.ws_url for r in remotes]
    with BrowserPool(size=4, remote_endpoints=endpoints) as pool:
        pool.scrape(site.url("/about.html"))
        outcome: list[list[ScrapeResult | chromeguard.ChromeGuardError]] = []
        runner = threading.Thread(
            target=lambda: outcome.append(pool.scrape_many([site.url("/slow?s=0.3")] * 16))
        )
        runner.start()
        while pool.stats()["in_use"] < 2:
            time.sleep(0.01)
        remotes[0].kill()
        runner.join()
        [results] = outcome
        assert all(isinstance(r, ScrapeResult) for r in results), results
        assert pool.scrape(site.url("/about.html")).title == "About us"
    assert remotes[1].process.poll() is None


def test_unreachable_endpoints_fail_with_a_clear_error(site: Site) -> None:
    endpoint = "ws://127.0.0.1:9/devtools/browser/x"
    with (
        BrowserPool(size=1, remote_endpoints=[endpoint]) as pool,
        pytest.raises(chromeguard.BrowserLaunchError, match="unreachable"),
    ):
        pool.scrape(site.url("/about.html"))


def test_endpoints_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(chromeguard.ConfigError, match="TLS"):
        BrowserPool(remote_endpoints=["wss://farm.example/ws"])
    with pytest.raises(chromeguard.ConfigError):
        chromeguard.configure(remote_endpoints="ws://x")
    monkeypatch.setenv("CHROMEGUARD_REMOTE_ENDPOINTS", "ws://a:1/x, http://b:2")
    assert chromeguard.current_config().remote_endpoints == ("ws://a:1/x", "http://b:2")
