"""Failed launches: retried when transient, fast and typed when not, never leaving anything."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

import chromeguard
from chromeguard import BrowserLaunchError

from ._procs import processes_using


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_transient_failures_are_retried(
    tmp_path: Path, chrome_path: str, profile_root: Path
) -> None:
    counter = tmp_path / "starts"
    flaky = _script(
        tmp_path / "flaky-chrome",
        f"""n=$(cat {counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {counter}
if [ "$n" -le 2 ]; then echo "simulated crash $n" >&2; exit 1; fi
exec {chrome_path} "$@"
""",
    )
    before = chromeguard.stats()
    with chromeguard.create_browser(executable_path=flaky, backoff_initial=0.01) as browser:
        assert browser.execute_script("return 1") == 1
    after = chromeguard.stats()
    assert counter.read_text().strip() == "3"
    assert after["retries"] - before["retries"] == 2
    assert after["launch_attempts"] - before["launch_attempts"] == 3
    assert after["launches"] - before["launches"] == 1
    assert list(profile_root.iterdir()) == []


def test_crash_every_time_reports_attempts_and_stderr(tmp_path: Path) -> None:
    broken = _script(
        tmp_path / "broken", 'echo "libfoo.so: cannot open shared object" >&2; exit 127\n'
    )
    with pytest.raises(BrowserLaunchError) as info:
        chromeguard.create_browser(executable_path=broken, launch_retries=2, backoff_initial=0.01)
    err = info.value
    assert err.reason == "crashed"
    assert err.attempts == 3
    assert "libfoo.so" in err.stderr_tail
    assert "libfoo.so" in str(err)


def test_missing_executable_fails_fast_without_retries(tmp_path: Path) -> None:
    before = chromeguard.stats()
    with pytest.raises(BrowserLaunchError) as info:
        chromeguard.create_browser(executable_path=tmp_path / "no-such-chrome", launch_retries=5)
    after = chromeguard.stats()
    assert info.value.reason == "executable_not_found"
    assert info.value.attempts == 1
    assert "CHROMEGUARD_CHROME_PATH" in str(info.value)
    assert after["retries"] == before["retries"]
    assert after["launch_attempts"] == before["launch_attempts"]
    assert after["launch_failures"] == before["launch_failures"] + 1


def test_non_executable_file_fails_fast(tmp_path: Path) -> None:
    plain = tmp_path / "chrome"
    plain.write_text("not a program")
    with pytest.raises(BrowserLaunchError) as info:
        chromeguard.create_browser(executable_path=plain)
    assert info.value.reason == "executable_not_found"
    assert "not executable" in str(info.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="Chrome refuses its sandbox only when run as root")
def test_root_with_sandbox_names_the_fix() -> None:
    with pytest.raises(BrowserLaunchError) as info:
        chromeguard.create_browser(sandbox=True, launch_retries=3)
    assert info.value.reason == "sandbox"
    assert info.value.attempts == 1
    assert "sandbox=False" in str(info.value)
    assert "no-sandbox" in info.value.stderr_tail


def test_launch_timeout_is_a_retried_timeout(tmp_path: Path) -> None:
    silent = _script(tmp_path / "silent", "exec sleep 30\n")
    with pytest.raises(BrowserLaunchError) as info:
        chromeguard.create_browser(
            executable_path=silent, launch_timeout=0.3, launch_retries=1, backoff_initial=0.01
        )
    assert info.value.reason == "timeout"
    assert info.value.attempts == 2


def test_invalid_extra_args_are_rejected_before_launch() -> None:
    before = chromeguard.stats()["launch_attempts"]
    for bad in (["--remote-debugging-port=9222"], ["--user-data-dir=/tmp/x"], ["http://x"]):
        with pytest.raises(chromeguard.ConfigError):
            chromeguard.create_browser(extra_args=bad)
    assert chromeguard.stats()["launch_attempts"] == before


# Full Chromium keeps a SingletonLock in the profile; the headless shell keeps none.
BINARIES = [
    path
    for path in ("/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium")
    if os.path.exists(path)
] or [None]


@pytest.mark.parametrize("binary", BINARIES)
def test_live_user_data_dir_lock_fails_at_once(tmp_path: Path, binary: str | None) -> None:
    shared = tmp_path / "persistent"
    with chromeguard.create_browser(user_data_dir=shared, executable_path=binary) as first:
        with pytest.raises(BrowserLaunchError) as info:
            chromeguard.create_browser(
                user_data_dir=shared, executable_path=binary, launch_retries=3
            )
        assert info.value.reason == "profile_in_use"
        assert info.value.attempts == 1
        assert str(first.pid) in str(info.value)
    assert shared.is_dir(), "a persistent profile is never deleted"
    with chromeguard.create_browser(user_data_dir=shared, executable_path=binary) as again:
        assert again.user_data_dir == str(shared)


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("holder", ["another-container-31337", f"{socket.gethostname()}-999999"])
def test_stale_user_data_dir_lock_is_cleared(
    tmp_path: Path, holder: str, binary: str | None
) -> None:
    shared = tmp_path / "persistent"
    shared.mkdir()
    os.symlink(holder, shared / "SingletonLock")
    os.symlink("/tmp/gone/SingletonSocket", shared / "SingletonSocket")
    with chromeguard.create_browser(user_data_dir=shared, executable_path=binary) as browser:
        assert browser.execute_script("return 2") == 2
        lock = shared / "SingletonLock"
        assert not lock.is_symlink() or os.readlink(lock) != holder
    assert shared.is_dir()


def test_read_only_profile_root_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocked = tmp_path / "file-not-dir"
        blocked.write_text("")
        root = blocked / "profiles"
    else:
        root = tmp_path / "ro"
        root.mkdir()
        root.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(BrowserLaunchError) as info:
        chromeguard.create_browser(profile_root=root, launch_retries=0)
    assert "profile_root" in str(info.value)


def test_failed_launch_leaves_no_process(
    tmp_path: Path, chrome_path: str, profile_root: Path
) -> None:
    dies_late = _script(
        tmp_path / "dies-late",
        f'{chrome_path} "$@" 3<&- 4>&- & sleep 0.5; echo "gave up" >&2; exit 3\n',
    )
    with pytest.raises(BrowserLaunchError) as info:
        chromeguard.create_browser(executable_path=dies_late, launch_retries=0)
    assert "gave up" in info.value.stderr_tail
    assert processes_using(profile_root) == []
