"""The chromeguard command line: scrape, doctor, cleanup, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ._site import Site


def cli(*args: str, profile_root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CHROMEGUARD_PROFILE_ROOT": str(profile_root), **env}
    return subprocess.run(
        [sys.executable, "-m", "chromeguard", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_scrape_json_lines(site: Site, profile_root: Path) -> None:
    done = cli(
        "scrape",
        "--json",
        site.url("/downloads.html"),
        site.url("/about.html"),
        profile_root=profile_root,
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["title"] == "Every kind of download" and "links" not in first
    assert any(d["url"].endswith("/files/app-1.2.3.apk") for d in first["downloads"])
    assert second["title"] == "About us"
    assert done.stderr == "", "no progress bar when stderr is not a terminal"


def test_scrape_table_links_and_failures(site: Site, profile_root: Path) -> None:
    done = cli(
        "scrape",
        "--include-links",
        "--concurrency",
        "2",
        "--timeout",
        "10",
        site.url("/index.html"),
        "ftp://example.com/file",
        profile_root=profile_root,
    )
    assert done.returncode == 1, "one page failed"
    assert "'Fixture home', HTTP 200" in done.stdout
    assert f"link: {site.url('/about.html')}" in done.stdout
    assert "failed: InvalidUrlError" in done.stdout


def test_scrape_wait_for(site: Site, profile_root: Path) -> None:
    done = cli(
        "scrape",
        "--json",
        "--wait-for",
        "#ready",
        site.url("/wait.html"),
        profile_root=profile_root,
    )
    assert done.returncode == 0, done.stderr
    assert site.url("/files/after-wait.zip") in done.stdout


def test_doctor(profile_root: Path) -> None:
    healthy = cli("doctor", profile_root=profile_root)
    assert healthy.returncode == 0, healthy.stdout
    for line in ("Chrome: ", "sandbox: ", "/dev/shm: ", "profile root: ", "launch: "):
        assert line in healthy.stdout
    assert "no problems found" in healthy.stdout
    broken = cli("doctor", profile_root=profile_root, CHROMEGUARD_CHROME_PATH="/no/such/chrome")
    assert broken.returncode == 1
    assert "launch: failed (executable_not_found)" in broken.stdout
    assert "problem: " in broken.stdout and "CHROMEGUARD_CHROME_PATH" in broken.stdout


def make_stale(profile_root: Path, name: str) -> Path:
    stale = profile_root / name
    (stale / "profile").mkdir(parents=True)
    (stale / "owner").write_text(f"999999 1 {os.uname().nodename}\n")
    return stale


def test_cleanup_removes_stale_profiles(profile_root: Path) -> None:
    stale = make_stale(profile_root, "chromeguard-stale2")
    done = cli("cleanup", profile_root=profile_root)
    assert done.returncode == 0
    assert done.stdout.startswith("removed 1 stale profile(s)")
    assert not stale.exists()


def test_doctor_reports_stale_profiles(profile_root: Path) -> None:
    stale = make_stale(profile_root, "chromeguard-stale3")
    doctor = cli("doctor", profile_root=profile_root)
    assert "(1 stale profile(s))" in doctor.stdout
    assert "run `chromeguard cleanup`" in doctor.stdout
    assert not stale.exists(), "the doctor's launch swept it, as every first launch does"


def test_version_and_demo(profile_root: Path) -> None:
    assert cli("--version", profile_root=profile_root).stdout.startswith("chromeguard ")
    demo = cli("demo", profile_root=profile_root)
    assert demo.returncode == 0 and "7 download URLs on 2 pages" in demo.stdout


def test_progress_bar_on_a_terminal(site: Site, profile_root: Path) -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        environment = {**os.environ, "CHROMEGUARD_PROFILE_ROOT": str(profile_root)}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "chromeguard",
                "scrape",
                "--json",
                site.url("/"),
                site.url("/about.html"),
            ],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert b"2/2" in shown and b"#" in shown
    assert len(done.stdout.splitlines()) == 2
