"""Process lifecycle: parent death, interpreter exit, stale profiles, fork, logging."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import chromeguard
from chromeguard import _logging

from ._procs import processes_using
from ._site import Site


def _run_child(code: str, profile_root: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CHROMEGUARD_PROFILE_ROOT": str(profile_root)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_no_chrome(root: Path, limit: float) -> list[int]:
    deadline = time.monotonic() + limit
    while (left := processes_using(root)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_sigkill_of_python_leaves_no_chrome(profile_root: Path, site: Site) -> None:
    child = _run_child(
        f"""
        import json, sys, time, chromeguard
        browsers = [chromeguard.create_browser() for _ in range(4)]
        pool = chromeguard.BrowserPool(size=2)
        pool.scrape("{site.url("/about.html")}")
        print(json.dumps([b.profile_dir for b in browsers]), flush=True)
        time.sleep(60)
        """,
        profile_root,
    )
    try:
        assert child.stdout is not None
        dirs = json.loads(child.stdout.readline())
        assert len(processes_using(profile_root)) >= 5
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    assert _wait_no_chrome(profile_root, 2.0) == [], "no Chrome alive 2 s after the parent died"
    assert all(os.path.isdir(d) for d in dirs), "the dead process could not remove its profiles"
    before = chromeguard.stats()["stale_profiles_removed"]
    assert chromeguard.cleanup_stale_profiles() == 5, "4 browsers and the pool's"
    assert chromeguard.stats()["stale_profiles_removed"] == before + 5
    assert not any(os.path.exists(d) for d in dirs)


def test_first_launch_in_a_process_reaps_stale_profiles(profile_root: Path) -> None:
    child = _run_child(
        """
        import chromeguard, os
        b = chromeguard.create_browser()
        print(b.profile_dir, flush=True)
        os._exit(0)
        """,
        profile_root,
    )
    out, _ = child.communicate(timeout=60)
    stale = out.strip()
    assert os.path.isdir(stale)
    assert _wait_no_chrome(profile_root, 2.0) == []
    check = _run_child(
        """
        import chromeguard
        with chromeguard.create_browser():
            print(chromeguard.stats()["stale_profiles_removed"])
        """,
        profile_root,
    )
    out, _ = check.communicate(timeout=60)
    assert out.strip() == "1"
    assert not os.path.exists(stale)


def test_cleanup_kills_a_process_still_using_a_stale_profile(profile_root: Path) -> None:
    stale = profile_root / "chromeguard-stale1"
    (stale / "profile").mkdir(parents=True)
    (stale / "owner").write_text(f"999999 1 {os.uname().nodename}\n")
    # One process that never forks: a shell would, and leave its child behind when killed.
    user = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", f"--user-data-dir={stale}/profile"]
    )
    try:
        # Until the child has exec'd, /proc shows Python's command line.
        deadline = time.monotonic() + 5
        while processes_using(profile_root) != [user.pid] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert processes_using(profile_root) == [user.pid]
        assert chromeguard.cleanup_stale_profiles(profile_root) == 1
        assert user.wait(timeout=5) == -signal.SIGKILL
    finally:
        if user.poll() is None:
            user.kill()
            user.wait()
    assert not stale.exists()


def test_live_profiles_of_another_process_are_kept(profile_root: Path) -> None:
    with chromeguard.create_browser() as browser:
        assert chromeguard.cleanup_stale_profiles() == 0
        assert os.path.isdir(browser.profile_dir)


def test_browsers_open_at_interpreter_exit_are_closed(profile_root: Path) -> None:
    child = _run_child(
        """
        import chromeguard
        keep = [chromeguard.create_browser() for _ in range(2)]
        print(keep[0].profile_dir, flush=True)
        """,
        profile_root,
    )
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert processes_using(profile_root) == []
    assert not os.path.exists(out.strip())
    assert list(profile_root.iterdir()) == []


def test_browser_works_in_a_forked_child(profile_root: Path) -> None:
    with chromeguard.create_browser() as parent_browser:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            status = 1
            try:
                with chromeguard.create_browser() as child_browser:
                    ok = child_browser.execute_script("return 40 + 2") == 42
                with pytest.raises(chromeguard.BrowserClosedError, match="fork"):
                    parent_browser.execute_script("return 1")
                status = 0 if ok else 2
            finally:
                os.write(write, str(status).encode())
                os._exit(status)
        os.close(write)
        with os.fdopen(read) as pipe:
            result = pipe.read()
        _, status = os.waitpid(pid, 0)
        assert result == "0" and os.waitstatus_to_exitcode(status) == 0
        assert parent_browser.execute_script("return 1") == 1


def test_rust_records_reach_python_logging(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("chromeguard")
    with caplog.at_level(logging.DEBUG, logger="chromeguard"):
        with chromeguard.create_browser() as browser:
            pid = browser.pid
        _logging.deliver()
        assert any(
            r.name == "chromeguard.browser" and f"pid {pid}" in r.getMessage()
            for r in caplog.records
        )
        assert any(r.name == "chromeguard.chrome" for r in caplog.records), "Chrome's stderr"
    caplog.clear()
    logger.setLevel(logging.WARNING)
    try:
        with chromeguard.create_browser():
            pass
        _logging.deliver()
        assert not [r for r in caplog.records if r.levelno < logging.WARNING]
    finally:
        logger.setLevel(logging.NOTSET)


def test_ctrl_c_interrupts_a_slow_navigation(profile_root: Path, site: Site) -> None:
    child = _run_child(
        f"""
        import chromeguard
        browser = chromeguard.create_browser(navigation_timeout=60)
        print("ready", flush=True)
        browser.get("{site.url("/slow?s=30")}")
        """,
        profile_root,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    started = time.monotonic()
    child.send_signal(signal.SIGINT)
    child.wait(timeout=20)
    child.stdout.close()
    # An uncaught KeyboardInterrupt ends Python with SIGINT's status.
    assert child.returncode == -signal.SIGINT
    assert time.monotonic() - started < 5, "the wait wakes up for Ctrl-C"
    assert _wait_no_chrome(profile_root, 2.0) == []
    assert list(profile_root.iterdir()) == [], "closed at exit"
