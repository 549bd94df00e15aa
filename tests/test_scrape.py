"""scrape(): every download pattern, isolation, bad input and failures, on the fixture site."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import chromeguard
from chromeguard import BrowserPool, DownloadLink, ScrapeResult

from ._pool import stray_contexts
from ._procs import processes_using
from ._site import Site

# Chrome resolves these names itself: public.test is a "public" host that lands on the fixture
# server, and every .invalid name fails like a DNS error, without any network.
RESOLVER_RULES = "--host-resolver-rules=MAP public.test 127.0.0.1, MAP *.invalid ~NOTFOUND"


@pytest.fixture
def pool() -> Iterator[BrowserPool]:
    """A pool for the test; afterwards no scrape may have left a context open."""
    with BrowserPool(size=4, extra_args=[RESOLVER_RULES]) as running:
        yield running
        assert running.stats()["in_use"] == 0
        assert stray_contexts(running) == 0


def by_url(result: ScrapeResult) -> dict[str, DownloadLink]:
    return {d.url: d for d in result.downloads}


def test_every_download_kind(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/downloads.html"))
    assert result.status == 200
    assert result.title == "Every kind of download"
    assert result.attempts == 1
    found = by_url(result)
    base = site.base

    report = found[f"{base}/blob/report"]
    assert (report.source, report.filename) == ("dom", "report.csv")
    for name in ("app-1.2.3.apk", "archive.zip", "disk.iso", "song.mp3"):
        link = found[f"{base}/files/{name}"]
        assert link.source == "dom" and link.filename == name
    assert found[f"{base}/files/app-1.2.3.apk"].text == "Android app"
    assert f"{base}/files/archive.zip#fragment" not in found

    media = {
        name: found[f"{base}/files/{name}"]
        for name in ("clip.mp4", "podcast.ogg", "manual.pdf", "slides.pptx", "subtitles.vtt")
    }
    assert all(link.source == "dom" for link in media.values())
    assert media["podcast.ogg"].mime == "audio/ogg"
    assert media["subtitles.vtt"].text == "English"

    chain = found[f"{base}/files/data.zip"]
    assert (chain.source, chain.text, chain.filename) == ("redirect", "Mirror", "data.zip")
    export = found[f"{base}/export/report"]
    assert (export.source, export.mime, export.filename) == (
        "redirect",
        "text/csv",
        "report 2026.csv",
    )
    cdn = found[f"http://localhost:{site.port}/files/cdn.bin"]
    assert cdn.source == "redirect"
    assert f"{base}/dl/page" not in found
    assert f"{base}/download/42" not in found, "resolved to the apk link already listed"

    assert len(result.downloads) == len(found), "de-duplicated"
    assert f"{base}/about.html" in result.links
    assert f"{base}/files/archive.zip#fragment" in result.links
    assert not any(link.startswith(("mailto:", "javascript:")) for link in result.links)
    assert result.html is None
    for path in ("/files/data.zip", "/files/cdn.bin"):
        for method, range_header in site.requests_to(path):
            assert method == "HEAD" or range_header == "bytes=0-0", (path, method)


def test_head_refused_falls_back_to_a_ranged_get(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/nohead.html"))
    [link] = result.downloads
    assert (link.url, link.source) == (site.url("/files/archive.zip"), "redirect")
    assert site.requests_to("/download/nohead")[:2] == [("HEAD", None), ("GET", "bytes=0-0")]


def test_resolve_false_skips_endpoints(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/downloads.html"), resolve=False)
    assert not [d for d in result.downloads if d.source == "redirect"]


def test_links_added_by_scripts_after_load(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/dynamic.html"))
    urls = set(by_url(result))
    assert {site.url(f"/files/{n}") for n in ("early.zip", "late.zip", "api.zip")} <= urls
    quick = pool.scrape(site.url("/dynamic.html"), settle=0)
    assert site.url("/files/early.zip") in by_url(quick)
    assert site.url("/files/late.zip") not in by_url(quick)


def test_downloads_seen_on_the_network(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/network.html"))
    found = by_url(result)
    pdf = found[site.url("/attachment/manual.pdf")]
    assert (pdf.source, pdf.mime, pdf.filename) == ("network", "application/pdf", "manual.pdf")
    blob = found[site.url("/bin/blob.dat")]
    assert (blob.source, blob.mime) == ("network", "application/octet-stream")


def test_a_url_that_is_itself_a_download(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/files/app-1.2.3.apk"))
    assert result.status == 200
    [link] = result.downloads
    assert link.url == site.url("/files/app-1.2.3.apk")
    assert (link.source, link.mime) == ("network", "application/vnd.android.package-archive")
    attachment = pool.scrape(site.url("/attachment/guide.pdf"))
    assert [d.filename for d in attachment.downloads] == ["guide.pdf"]


def test_redirect_chain_and_http_errors_are_results(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/redirect?n=3&to=/about.html"))
    assert result.final_url == site.url("/about.html")
    assert (result.status, result.title) == (200, "About us")
    missing = pool.scrape(site.url("/status/404"))
    assert (missing.status, missing.title) == (404, "status 404")


def test_no_cookies_or_storage_shared_between_scrapes(pool: BrowserPool, site: Site) -> None:
    pool.scrape(site.url("/set-cookie"))
    after = pool.scrape(site.url("/cookies.html"))
    assert after.title == "cookies:none;storage:none"


def test_cookies_headers_and_user_agent_options(pool: BrowserPool, site: Site) -> None:
    assert pool.scrape(site.url("/cookies.html"), cookies={"token": "t1"}).title.startswith(
        "cookies:token=t1"
    )
    listed = [{"name": "a", "value": "1", "domain": "127.0.0.1", "path": "/"}]
    assert pool.scrape(site.url("/cookies.html"), cookies=listed).title.startswith("cookies:a=1")
    assert pool.scrape(site.url("/headers"), headers={"X-Test": "yes"}).title == "x-test:yes"
    assert (
        pool.scrape(site.url("/agent.html"), user_agent="chromeguard-test/1").title
        == "chromeguard-test/1"
    )


def test_include_html_and_extensions(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(
        site.url("/downloads.html"), include_html=True, extensions=[".ISO"], resolve=False
    )
    assert result.html is not None and "<h1>Downloads</h1>" in result.html
    found = by_url(result)
    assert site.url("/files/disk.iso") in found
    assert site.url("/files/app-1.2.3.apk") not in found
    assert site.url("/blob/report") in found, "the download attribute still counts"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "/relative",
        "example.com/page",
        "http://",
        "http://exa mple.com/",
        "javascript:alert(1)",
        "data:text/html,<p>x",
        "file:///etc/passwd",
        "chrome://settings",
        "about:blank",
        "ftp://example.com/file.zip",
        "mailto:someone@example.com",
    ],
)
def test_bad_urls_are_refused_before_any_browser_work(url: str) -> None:
    with BrowserPool(size=1) as pool:
        with pytest.raises(chromeguard.InvalidUrlError) as info:
            pool.scrape(url)
        assert isinstance(info.value, ValueError)
        assert pool.stats()["browsers_launched"] == 0


def test_file_urls_need_the_opt_in() -> None:
    page = Path(__file__).with_name("site") / "about.html"
    with BrowserPool(size=1, allow_file_urls=True) as pool:
        assert pool.scrape(page.as_uri()).title == "About us"


def test_block_private_networks(site: Site) -> None:
    with BrowserPool(size=2, block_private_networks=True, extra_args=[RESOLVER_RULES]) as pool:
        for url in (site.url("/"), f"http://localhost:{site.port}/"):
            with pytest.raises(chromeguard.InvalidUrlError, match="non-public"):
                pool.scrape(url)
        public = f"http://public.test:{site.port}"
        assert pool.scrape(f"{public}/about.html").title == "About us"
        with pytest.raises(chromeguard.InvalidUrlError, match="non-public"):
            pool.scrape(f"{public}/redirect?n=2&to=http://127.0.0.1:{site.port}/about.html")
        result = pool.scrape(f"{public}/private-sub")
        assert not [d for d in result.downloads if "secret" in d.url]
        assert site.requests_to("/attachment/secret.pdf") == []
        assert site.requests_to("/bin/blob.dat?secret") == []


def test_unreachable_hosts_raise_navigation_error(pool: BrowserPool) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(chromeguard.NavigationError) as refused:
        pool.scrape(f"http://127.0.0.1:{port}/")
    assert refused.value.error_text == "net::ERR_CONNECTION_REFUSED"
    with pytest.raises(chromeguard.NavigationError) as dns:
        pool.scrape("http://no-such-host.invalid/")
    assert dns.value.error_text == "net::ERR_NAME_NOT_RESOLVED"


def test_timeout_is_raised_in_time_and_the_pool_recovers(pool: BrowserPool, site: Site) -> None:
    started = time.monotonic()
    with pytest.raises(chromeguard.ScrapeTimeout) as info:
        pool.scrape(site.url("/slow?s=10"), timeout=1)
    assert time.monotonic() - started < 2.0, "ScrapeTimeout comes within timeout + 1 s"
    assert isinstance(info.value, TimeoutError)
    assert pool.scrape(site.url("/about.html")).title == "About us"
    assert pool.stats()["in_use"] == 0


def test_wait_for(pool: BrowserPool, site: Site) -> None:
    result = pool.scrape(site.url("/wait.html"), wait_for="#ready", settle=0)
    assert site.url("/files/after-wait.zip") in by_url(result)
    with pytest.raises(chromeguard.ScrapeTimeout, match="#never"):
        pool.scrape(site.url("/wait.html"), wait_for="#never", timeout=1)
    with pytest.raises(chromeguard.ConfigError, match="selector"):
        pool.scrape(site.url("/wait.html"), wait_for="a[")


@pytest.mark.parametrize(
    "options",
    [
        {"wait_until": "idle"},
        {"timeout": 0},
        {"timeout": -1},
        {"settle": float("inf")},
        {"extensions": "zip"},
        {"headers": {"X": "a\nb"}},
        {"cookies": [{"name": "x"}]},
    ],
)
def test_invalid_options_raise_config_error(
    pool: BrowserPool, site: Site, options: dict[str, object]
) -> None:
    with pytest.raises(chromeguard.ConfigError):
        pool.scrape(site.url("/"), **options)


def test_acquire_timeout_raises_pool_timeout(site: Site) -> None:
    with BrowserPool(size=1, acquire_timeout=0.3) as pool:
        slow = threading.Thread(target=pool.scrape, args=(site.url("/slow?s=2"),))
        slow.start()
        while pool.stats()["in_use"] == 0:
            time.sleep(0.01)
        with pytest.raises(chromeguard.PoolTimeout) as info:
            pool.scrape(site.url("/about.html"))
        assert isinstance(info.value, TimeoutError)
        slow.join()


def test_8_threads_x_25_scrapes(pool: BrowserPool, site: Site) -> None:
    pages = ["/about.html", "/downloads.html", "/index.html", "/dynamic.html", "/network.html"]
    errors: list[BaseException] = []
    results: list[ScrapeResult] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(25):
            try:
                result = pool.scrape(site.url(pages[(n + i) % len(pages)]))
            except BaseException as exc:
                with lock:
                    errors.append(exc)
            else:
                with lock:
                    results.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 200
    about = [r for r in results if r.url.endswith("/about.html")]
    assert about and all(r.title == "About us" for r in about)
    stats = pool.stats()
    assert stats["scrapes"] == 200 and stats["in_use"] == 0


def _main_chrome_pids(root: Path) -> list[int]:
    main = []
    for pid in processes_using(root):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not any(a.startswith(b"--type=") for a in args):
            main.append(pid)
    return main


def test_a_pool_browser_killed_mid_run_is_replaced(site: Site, profile_root: Path) -> None:
    with BrowserPool(size=4) as pool:
        urls = [site.url("/slow?s=0.3")] * 24
        outcome: list[list[ScrapeResult | chromeguard.ChromeGuardError]] = []
        runner = threading.Thread(target=lambda: outcome.append(pool.scrape_many(urls)))
        runner.start()
        while pool.stats()["in_use"] < 2:
            time.sleep(0.01)
        [victim] = _main_chrome_pids(profile_root)
        os.kill(victim, signal.SIGKILL)
        runner.join()
        [results] = outcome
        assert all(isinstance(r, ScrapeResult) for r in results), results
        assert any(r.attempts == 2 for r in results if isinstance(r, ScrapeResult))
        stats = pool.stats()
        assert stats["browsers_launched"] >= 2 and stats["browsers_replaced"] >= 1


def test_scrape_many_keeps_order_and_returns_failures_in_place(
    pool: BrowserPool, site: Site
) -> None:
    urls = [
        site.url("/about.html"),
        "ftp://example.com/x",
        "http://no-such-host.invalid/",
        site.url("/index.html"),
    ]
    results = pool.scrape_many(urls, concurrency=2)
    assert isinstance(results[0], ScrapeResult) and results[0].title == "About us"
    assert isinstance(results[1], chromeguard.InvalidUrlError)
    assert isinstance(results[2], chromeguard.NavigationError)
    assert isinstance(results[3], ScrapeResult) and results[3].title == "Fixture home"
    assert pool.scrape_many([]) == []


def test_module_level_scrape_uses_a_default_pool(site: Site) -> None:
    try:
        result = chromeguard.scrape(site.url("/downloads.html"))
        assert any(d.url.endswith("app-1.2.3.apk") for d in result.downloads)
        many = chromeguard.scrape_many([site.url("/about.html"), site.url("/index.html")])
        assert [r.title for r in many if isinstance(r, ScrapeResult)] == [
            "About us",
            "Fixture home",
        ]
        assert chromeguard.stats()["active_browsers"] >= 1
    finally:
        chromeguard.shutdown()
    assert chromeguard.stats()["active_browsers"] == 0


def test_closed_pool_refuses_work(site: Site) -> None:
    pool = BrowserPool(size=1)
    assert pool.scrape(site.url("/about.html")).title == "About us"
    pool.close()
    with pytest.raises(chromeguard.BrowserClosedError):
        pool.scrape(site.url("/about.html"))
