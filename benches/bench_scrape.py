"""Scrape benchmark (``make bench``): prints a table.

On the fixture site (tests/site, served on 127.0.0.1), every approach loads each page, waits for
its load event and reads its links:

(a) the old approach: a global lock around launching Chrome with a unique profile, then scrape,
    quit and remove the profile, for every page (Selenium + chromedriver when importable, else
    Chrome driven over its DevTools pipe);
(b) chromeguard: warm ``BrowserPool.scrape()`` (a fresh browser context per page, with settle,
    download classification and resolution);
(c) Selenium with one reused driver per thread, when importable;
(d) Playwright with a new context per page, one browser per thread, when importable.

Figures: sequential p50/p95 seconds per page, pages/s with 4 threads, peak RSS of the whole
process tree (this process and every descendant). The pages' own load time is read from
Navigation Timing (loadEventEnd) in fresh contexts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benches"))

from bench_launch import bare, percentile  # noqa: E402

import chromeguard  # noqa: E402
from tests._site import Site  # noqa: E402

PAGES = ["/index.html", "/about.html", "/catalog.html", "/network.html"]
COLLECT = "return [...document.querySelectorAll('a[href]')].map(a => a.href)"
# loadEventEnd is set once the load handlers have run, hence the setTimeout.
LOAD_EVENT_END = """new Promise(resolve => {
  const done = () => setTimeout(
    () => resolve(performance.getEntriesByType('navigation')[0].loadEventEnd), 0);
  document.readyState === 'complete' ? done() : addEventListener('load', done);
})"""


class TreeRss:
    """Samples the RSS of this process and all its descendants; keeps the peak."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_rss() -> int:
        parents: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    stat = Path(f"/proc/{name}/stat").read_text()
                except OSError:
                    continue
                parents[int(name)] = int(stat[stat.rfind(")") + 2 :].split()[1])
        tree, frontier = {os.getpid()}, [os.getpid()]
        while frontier:
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        total = 0
        for pid in tree:
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return total * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._tree_rss())

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def selenium_args() -> list[str]:
    # chromedriver gives every session a unique temporary profile of its own (passing
    # --user-data-dir to the headless shell makes chromedriver fail to find its page).
    return ["--headless", "--no-sandbox"]


class Approach:
    """One way of scraping: `session()` yields a per-thread scrape function."""

    name = ""

    @contextmanager
    def session(self) -> Iterator[Callable[[str], list[str]]]:
        raise NotImplementedError
        yield


class OldWay(Approach):
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.lock = threading.Lock()
        try:
            import selenium  # noqa: F401

            self.name = "(a) old: lock + launch per page (Selenium)"
            self.selenium = True
        except ImportError:
            self.name = "(a) old: lock + launch per page (raw CDP)"
            self.selenium = False

    def _selenium_page(self, url: str) -> list[str]:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = self.binary
        for arg in selenium_args():
            options.add_argument(arg)
        with self.lock:
            driver = webdriver.Chrome(
                options=options, service=Service(shutil.which("chromedriver"))
            )
        try:
            driver.get(url)
            links: list[str] = driver.execute_script(COLLECT)
        finally:
            driver.quit()
        return links

    def _raw_page(self, url: str) -> list[str]:
        with self.lock:
            chrome_cm = bare(self.binary)
            chrome = chrome_cm.__enter__()
        try:
            target = chrome.call("Target.createTarget", {"url": "about:blank"})["result"]
            session = chrome.call(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
            )["result"]["sessionId"]  # type: ignore[index]
            chrome.call("Page.enable", {}, session)
            chrome.call("Page.navigate", {"url": url}, session)
            while True:
                ready = chrome.call(
                    "Runtime.evaluate",
                    {"expression": "document.readyState", "returnByValue": True},
                    session,
                )
                if ready["result"]["result"]["value"] == "complete":  # type: ignore[index]
                    break
            reply = chrome.call(
                "Runtime.evaluate",
                {"expression": f"(() => {{{COLLECT}}})()", "returnByValue": True},
                session,
            )
            return reply["result"]["result"]["value"]  # type: ignore[index,no-any-return]
        finally:
            chrome_cm.__exit__(None, None, None)

    @contextmanager
    def session(self) -> Iterator[Callable[[str], list[str]]]:
        yield self._selenium_page if self.selenium else self._raw_page


class ChromeGuard(Approach):
    name = "(b) chromeguard warm scrape()"

    def __init__(self, binary: str) -> None:
        self.pool = chromeguard.BrowserPool(size=4, executable_path=binary)

    @contextmanager
    def session(self) -> Iterator[Callable[[str], list[str]]]:
        yield lambda url: self.pool.scrape(url).links

    def close(self) -> None:
        self.pool.close()


class SeleniumReused(Approach):
    name = "(c) Selenium, one reused driver"

    def __init__(self, binary: str) -> None:
        self.binary = binary

    @contextmanager
    def session(self) -> Iterator[Callable[[str], list[str]]]:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = self.binary
        for arg in selenium_args():
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))

        def page(url: str) -> list[str]:
            driver.get(url)
            links: list[str] = driver.execute_script(COLLECT)
            return links

        try:
            yield page
        finally:
            driver.quit()


class PlaywrightContexts(Approach):
    name = "(d) Playwright, new context per page"

    def __init__(self, binary: str) -> None:
        self.binary = binary

    @contextmanager
    def session(self) -> Iterator[Callable[[str], list[str]]]:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=self.binary, args=["--no-sandbox"])

            def page(url: str) -> list[str]:
                context = browser.new_context()
                try:
                    tab = context.new_page()
                    tab.goto(url, wait_until="load")
                    links: list[str] = tab.evaluate(f"() => {{{COLLECT}}}")
                    return links
                finally:
                    context.close()

            try:
                yield page
            finally:
                browser.close()


def page_load_times(site: Site, binary: str, rounds: int) -> dict[str, float]:
    """Median loadEventEnd of each page, first load in a fresh context."""
    with bare(binary) as chrome:
        times: dict[str, list[float]] = {p: [] for p in PAGES}
        for _ in range(rounds):
            for path in PAGES:
                ctx = chrome.call("Target.createBrowserContext", {})["result"]["browserContextId"]  # type: ignore[index]
                target = chrome.call(
                    "Target.createTarget", {"url": "about:blank", "browserContextId": ctx}
                )["result"]
                session = chrome.call(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
                )["result"]["sessionId"]  # type: ignore[index]
                chrome.call("Page.navigate", {"url": site.url(path)}, session)
                expression = LOAD_EVENT_END
                reply = chrome.call(
                    "Runtime.evaluate",
                    {"expression": expression, "awaitPromise": True, "returnByValue": True},
                    session,
                )
                times[path].append(reply["result"]["result"]["value"] / 1000)  # type: ignore[index]
                chrome.call("Target.disposeBrowserContext", {"browserContextId": ctx})
    return {p: statistics.median(t) for p, t in times.items()}


def run(approach: Approach, urls: list[str], sequential: int, threaded: int) -> dict[str, Any]:
    with TreeRss() as rss:
        seq: list[float] = []
        with approach.session() as scrape:
            scrape(urls[0])  # warm-up, not counted
            for i in range(sequential):
                start = time.perf_counter()
                links = scrape(urls[i % len(urls)])
                seq.append(time.perf_counter() - start)
                assert isinstance(links, list), f"{approach.name} returned {links!r}"
        # Each thread opens its own session (Playwright's and Selenium's are per thread), warms
        # it up, and then all take pages from one queue; the clock runs from the barrier.
        todo = [urls[i % len(urls)] for i in range(threaded)]
        lock = threading.Lock()
        ready = threading.Barrier(5)
        finished: list[float] = []

        def worker(n: int) -> None:
            with approach.session() as scrape:
                scrape(urls[n % len(urls)])
                ready.wait()
                while True:
                    with lock:
                        if not todo:
                            break
                        url = todo.pop()
                    scrape(url)
                with lock:
                    finished.append(time.perf_counter())

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        ready.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = max(finished) - start
    return {
        "p50": percentile(seq, 50),
        "p95": percentile(seq, 95),
        "pps": threaded / wall,
        "rss": rss.peak,
    }


def print_table(title: str, results: dict[str, dict[str, Any]]) -> None:
    print(title)
    header = ("approach", "seq p50", "seq p95", "pages/s (4 threads)", "peak RSS (tree)")
    rows = [
        (
            name,
            f"{r['p50'] * 1000:.1f} ms",
            f"{r['p95'] * 1000:.1f} ms",
            f"{r['pps']:.1f}",
            f"{r['rss'] / 2**20:.0f} MiB",
        )
        for name, r in results.items()
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(5)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))
    print()


def others(binary: str) -> list[Approach]:
    approaches: list[Approach] = [OldWay(binary)]
    try:
        import selenium  # noqa: F401

        approaches.append(SeleniumReused(binary))
    except ImportError:
        print("Selenium not importable: (c) skipped")
    try:
        import playwright  # noqa: F401

        approaches.append(PlaywrightContexts(binary))
    except ImportError:
        print("Playwright not importable: (d) skipped")
    return approaches


def measure(
    approaches: list[Approach], urls: list[str], args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    results = {}
    for approach in approaches:
        n = args.old_pages if isinstance(approach, OldWay) else args.pages
        results[approach.name] = run(approach, urls, n, n)
        if isinstance(approach, ChromeGuard):
            approach.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--binary", default=chromeguard.find_chrome(), help="chromeguard's Chrome")
    parser.add_argument(
        "--reference",
        default="/usr/bin/chromium",
        help="Chrome the other tools run in the second table (the users' current set-up)",
    )
    parser.add_argument("--pages", type=int, default=60, help="pages per measurement")
    parser.add_argument("--old-pages", type=int, default=16, help="pages per measurement for (a)")
    args = parser.parse_args()
    binary: str = args.binary
    with Site() as site:
        urls = [site.url(p) for p in PAGES]
        loads = page_load_times(site, binary, rounds=10)
        same = measure([ChromeGuard(binary), *others(binary)], urls, args)
        reference = (
            measure(others(args.reference), urls, args) if os.path.exists(args.reference) else {}
        )

    load_p50 = statistics.median(loads.values())
    print(
        f"chromeguard {chromeguard.__version__} ({chromeguard._native.build_profile}), "
        f"{os.cpu_count()} CPUs; pages: {', '.join(PAGES)}"
    )
    print(f"own load time of the pages (Navigation Timing, p50): {load_p50 * 1000:.1f} ms\n")
    print_table(f"Every approach on {binary}:", same)
    if reference:
        print_table(f"(a), (c), (d) on {args.reference}, as the users run them today:", reference)
    guard = same[ChromeGuard.name]
    target = load_p50 + 0.025
    verdict = "met" if guard["p50"] <= target else "MISSED"
    print(f"warm p50 <= load + 25 ms ({target * 1000:.1f} ms): {verdict}", end=" ")
    print(f"({guard['p50'] * 1000:.1f} ms)")
    for label, table in (("same binary", same), ("reference binary", reference)):
        old = next((r for name, r in table.items() if name.startswith("(a)")), None)
        if old:
            ratio = guard["pps"] / old["pps"]
            verdict = "met" if ratio >= 10 else "MISSED"
            print(f"throughput vs old ({label}): {ratio:.1f}x, target 10x: {verdict}")
        rival = table.get(PlaywrightContexts.name)
        if rival:
            verdict = "met" if guard["pps"] > rival["pps"] else "MISSED"
            print(
                f"ahead of Playwright ({label}): {verdict} "
                f"({guard['pps']:.1f} vs {rival['pps']:.1f} pages/s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
