"""Security properties not covered elsewhere: nothing a page does writes outside its profile
(downloads are denied), and the guarantees other test files prove are listed in RELIABILITY.md."""

from __future__ import annotations

import time
from pathlib import Path

import chromeguard

from ._site import Site


def planted(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return [p for p in directory.iterdir() if p.name.startswith("planted")]


def test_downloads_a_page_starts_are_never_written(
    site: Site, profile_root: Path, tmp_path: Path
) -> None:
    watched = [Path.cwd(), Path.home(), Path.home() / "Downloads", Path("/tmp"), tmp_path]
    before = {d: planted(d) for d in watched}
    with chromeguard.create_browser() as browser:
        browser.get(site.url("/autodownload.html"))
        time.sleep(1)  # a download, if one were allowed, would have started by now
        profile = Path(browser.profile_dir)
        written = [p for p in profile.rglob("planted*")]
    with chromeguard.BrowserPool(size=1) as pool:
        result = pool.scrape(site.url("/autodownload.html"))
    assert site.url("/attachment/planted-attachment.pdf") in {d.url for d in result.downloads}
    assert written == [], "nothing inside the profile either"
    for directory in watched:
        assert planted(directory) == before[directory], directory
