"""Soak (``make soak``): thousands of scrapes over 4 threads on the fixture site, then a check
that everything is back to its baseline. Prints a table; exits non-zero if a check fails.

Measured before (after a warm-up pool was opened and closed, so one-time threads such as the
spawner exist) and after (the soak pool closed): open file descriptors, threads, Chrome
processes and profile directories of this process; browser contexts beyond the spare pages just
before the pool closes; RSS of this process and peak RSS of the Chrome tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import chromeguard  # noqa: E402
from tests._pool import stray_contexts  # noqa: E402
from tests._procs import group_members, processes_using  # noqa: E402
from tests._site import Site  # noqa: E402

PAGES = [
    "/index.html",
    "/about.html",
    "/downloads.html",
    "/dynamic.html",
    "/network.html",
    "/catalog.html",
]

# A Python process that scrapes grows by what it caches once (imports, the pool, JSON results it
# drops); 64 MiB over the baseline leaves room for allocator slack while catching a per-scrape
# leak (2,000 scrapes leaking 32 KiB each would exceed it).
PYTHON_RSS_GROWTH_LIMIT = 64 * 2**20
# One pool browser with 4 contexts and 2 spare pages: a browser process, a GPU process, a
# network service and up to 6 renderers of about 40-80 MiB each (PSS) on these pages.
CHROME_TREE_RSS_LIMIT = 1024 * 2**20


def rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


@dataclass
class Snapshot:
    fds: int
    threads: int
    chrome: int
    profiles: int
    rss: int

    @staticmethod
    def take(root: Path) -> Snapshot:
        return Snapshot(
            fds=len(os.listdir("/proc/self/fd")),
            threads=chromeguard_threads(),
            chrome=len(processes_using(root)),
            profiles=len(list(root.glob("chromeguard-*"))) if root.exists() else 0,
            rss=rss(os.getpid()),
        )


@dataclass
class SoakResult:
    scrapes: int
    errors: int
    seconds: float
    before: Snapshot
    after: Snapshot
    stray_contexts: int
    chrome_peak_rss: int

    def failures(self) -> list[str]:
        problems = []
        if self.errors:
            problems.append(f"{self.errors} scrapes failed")
        for name in ("fds", "threads", "chrome", "profiles"):
            if getattr(self.after, name) != getattr(self.before, name):
                problems.append(
                    f"{name}: {getattr(self.before, name)} -> {getattr(self.after, name)}"
                )
        if self.stray_contexts:
            problems.append(f"{self.stray_contexts} browser contexts left open")
        if self.after.rss - self.before.rss > PYTHON_RSS_GROWTH_LIMIT:
            problems.append(
                f"Python RSS grew by {(self.after.rss - self.before.rss) / 2**20:.0f} MiB"
            )
        if self.chrome_peak_rss > CHROME_TREE_RSS_LIMIT:
            problems.append(f"Chrome tree peaked at {self.chrome_peak_rss / 2**20:.0f} MiB PSS")
        return problems


def chromeguard_threads() -> int:
    """Threads of chromeguard in this process: native ones (named chromeguard-*) and Python
    ones of its thread pools. The fixture site's own server threads are not counted."""
    native = 0
    for task in os.listdir("/proc/self/task"):
        try:
            name = Path(f"/proc/self/task/{task}/comm").read_text().strip()
        except OSError:
            continue
        native += name.startswith("chromeguard")
    python = sum(t.name.startswith("chromeguard") for t in threading.enumerate())
    return native + python


def pss(pid: int) -> int:
    """Proportional set size: resident memory with shared pages divided among their sharers, so
    that a sum over processes is not inflated by the libraries every renderer maps."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def chrome_tree_rss(root: Path) -> int:
    """Memory of every Chrome process of ours: the browsers (found by their profile) and all the
    members of their process groups (renderers, GPU, network), as PSS."""
    browsers = processes_using(root)
    return sum(pss(pid) for pgid in browsers for pid in group_members(pgid))


def wait_settled(root: Path, threads: int) -> None:
    """Waits (5 s at most) for Chrome to be gone and for threads that are ending to end."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not processes_using(root) and chromeguard_threads() <= threads:
            return
        time.sleep(0.05)


def soak(scrapes: int, threads: int, site: Site, root: Path) -> SoakResult:
    """Runs `scrapes` scrapes over `threads` threads with a private profile root."""
    os.environ["CHROMEGUARD_PROFILE_ROOT"] = str(root)
    with chromeguard.BrowserPool(size=threads) as warm:
        warm.scrape(site.url("/about.html"))
    wait_settled(root, 0)
    before = Snapshot.take(root)
    urls = [site.url(PAGES[i % len(PAGES)]) for i in range(scrapes)]
    errors = 0
    peak = 0
    lock = threading.Lock()
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.2):
            peak = max(peak, chrome_tree_rss(root))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    with chromeguard.BrowserPool(size=threads) as pool:

        def worker(chunk: Iterator[str]) -> None:
            nonlocal errors
            for url in chunk:
                try:
                    pool.scrape(url)
                except chromeguard.ChromeGuardError:
                    with lock:
                        errors += 1

        workers = [
            threading.Thread(target=worker, args=(iter(urls[n::threads]),)) for n in range(threads)
        ]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        seconds = time.perf_counter() - started
        stray = stray_contexts(pool, limit=5)
    stop.set()
    sampler.join()
    wait_settled(root, before.threads)
    after = Snapshot.take(root)
    return SoakResult(scrapes, errors, seconds, before, after, stray, peak)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scrapes", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        with Site() as site:
            result = soak(args.scrapes, args.threads, site, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = [
        ("scrapes / errors", f"{result.scrapes} / {result.errors}", ""),
        ("throughput", f"{result.scrapes / result.seconds:.1f} pages/s", f"{result.seconds:.0f} s"),
        ("open fds", f"{result.before.fds} -> {result.after.fds}", "must be equal"),
        (
            "chromeguard threads",
            f"{result.before.threads} -> {result.after.threads}",
            "must be equal",
        ),
        ("Chrome processes", f"{result.before.chrome} -> {result.after.chrome}", "must be equal"),
        ("profile dirs", f"{result.before.profiles} -> {result.after.profiles}", "must be equal"),
        ("stray contexts", str(result.stray_contexts), "must be 0"),
        (
            "Python RSS",
            f"{result.before.rss / 2**20:.0f} -> {result.after.rss / 2**20:.0f} MiB",
            f"growth <= {PYTHON_RSS_GROWTH_LIMIT / 2**20:.0f} MiB",
        ),
        (
            "Chrome tree peak (PSS)",
            f"{result.chrome_peak_rss / 2**20:.0f} MiB",
            f"<= {CHROME_TREE_RSS_LIMIT / 2**20:.0f} MiB",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))
    problems = result.failures()
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
