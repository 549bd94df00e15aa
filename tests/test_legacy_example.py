"""The migration of examples/legacy_backend: scraper.py and session_mgr.py are ordinary Selenium
code; only browser.py changed. They run on chromeguard, keep their login across runs, and (when
Selenium and chromedriver are installed) print exactly what the original Selenium set-up prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chromeguard

from ._site import Site

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "legacy_backend"


def run_scraper(
    site: Site, session_file: Path, profile_root: Path, *, original: bool
) -> list[dict[str, object]]:
    paths = [str(EXAMPLE)]
    if original:
        paths.insert(0, str(EXAMPLE / "selenium_original"))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]),
        "LEGACY_BASE_URL": site.base,
        "LEGACY_SESSION_FILE": str(session_file),
        "LEGACY_CHROME_BINARY": chromeguard.find_chrome() or "",
        # about.html has no download list: the scraper's wait for one times out by design.
        "LEGACY_WAIT_SECONDS": "1",
        "CHROMEGUARD_PROFILE_ROOT": str(profile_root),
    }
    urls = [site.url("/members"), site.url("/about.html")]
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "scraper.py"), *urls],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_selenium_scripts_run_on_chromeguard(
    site: Site, tmp_path: Path, profile_root: Path
) -> None:
    session = tmp_path / "session.json"
    logins_before = len(site.requests_to("/login-submit"))
    first = run_scraper(site, session, profile_root, original=False)
    members, about = first
    assert [d["href"] for d in members["downloads"]] == [
        site.url(f"/files/{name}")
        for name in ("members-guide.pdf", "members-app.apk", "members-data.zip")
    ]
    assert members["downloads"][0]["text"] == "members-guide.pdf"
    assert about == {"url": site.url("/about.html"), "title": "About us", "downloads": []}
    assert session.exists()
    second = run_scraper(site, session, profile_root, original=False)
    assert second == first
    assert len(site.requests_to("/login-submit")) == logins_before + 1, "the login was kept"


@pytest.mark.skipif(
    shutil.which("chromedriver") is None,
    reason="chromedriver is not installed (apt-get install chromium-driver)",
)
def test_real_selenium_prints_the_same(site: Site, tmp_path: Path, profile_root: Path) -> None:
    pytest.importorskip("selenium")
    ours = run_scraper(site, tmp_path / "ours.json", profile_root, original=False)
    theirs = run_scraper(site, tmp_path / "theirs.json", profile_root, original=True)
    assert ours == theirs
    assert json.loads((tmp_path / "ours.json").read_text())[0]["name"] == "session"
