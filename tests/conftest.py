"""Fixtures: the local site, a private profile root per test, and a leak check after each test
that fails the test if a Chrome process of ours or a profile directory is left, and then kills
and removes what was left so one failure does not spill into the next test."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import chromeguard
from chromeguard import _native
from chromeguard.config import reset_configuration

from ._procs import processes_using
from ._site import Site


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


def _wait_gone(root: Path, limit: float) -> list[int]:
    deadline = time.monotonic() + limit
    while True:
        left = processes_using(root)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def profile_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private profile root for the test (also set as CHROMEGUARD_PROFILE_ROOT), checked
    for leaks afterwards."""
    root = tmp_path / "profiles"
    for name in list(os.environ):
        if name.startswith("CHROMEGUARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHROMEGUARD_PROFILE_ROOT", str(root))
    reset_configuration()
    yield root
    reset_configuration()
    problems = []
    left = _wait_gone(root, 2.0)
    if left:
        problems.append(f"Chrome processes left running: {left}")
    leftover_dirs = sorted(p.name for p in root.glob("chromeguard-*")) if root.exists() else []
    if leftover_dirs:
        problems.append(f"profile directories left on disk: {leftover_dirs}")
    active = chromeguard.stats()["active_browsers"]
    if active:
        problems.append(f"{active} browser(s) still open")
    if problems:
        _native.close_all()
        for pid in processes_using(root):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail("; ".join(problems))


@pytest.fixture
def chrome_path() -> str:
    """The real Chrome binary the tests run."""
    found = chromeguard.find_chrome()
    if found is None:
        pytest.fail("no Chrome found: install chromium-headless-shell (make test does)")
    return found
