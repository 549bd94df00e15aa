"""The ``chromeguard`` command: ``scrape``, ``doctor``, ``cleanup`` and ``demo``.

chromeguard scrape URL... [--json] [--concurrency N] [--wait-for CSS] [--timeout S]
                          [--include-links]
chromeguard doctor
chromeguard cleanup
chromeguard demo
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any, TextIO

from . import __version__, _native, demo
from .browser import create_browser
from .config import current_config
from .errors import BrowserLaunchError, ChromeGuardError
from .scraping import BrowserPool, ScrapeResult

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chromeguard",
        description="Headless Chrome that never collides, never leaks and says why it failed.",
    )
    parser.add_argument("--version", action="version", version=f"chromeguard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    scrape = commands.add_parser("scrape", help="print the download URLs of pages")
    scrape.add_argument("urls", nargs="+", metavar="URL")
    scrape.add_argument("--json", action="store_true", help="one JSON object per line")
    scrape.add_argument("--concurrency", type=int, default=None, help="pages at once")
    scrape.add_argument("--wait-for", metavar="CSS", default=None, help="selector to wait for")
    scrape.add_argument("--timeout", type=float, default=None, metavar="S", help="per page")
    scrape.add_argument("--include-links", action="store_true", help="also print every link")
    commands.add_parser("doctor", help="check Chrome, the sandbox, /dev/shm and the profiles")
    commands.add_parser("cleanup", help="remove stale profile directories")
    commands.add_parser("demo", help="scrape the bundled local site")
    return parser


def _progress(done: int, total: int, stream: TextIO) -> None:
    width = 30
    filled = width * done // total
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        stream.write("\n")
    stream.flush()


def _print_result(
    url: str, outcome: ScrapeResult | ChromeGuardError, args: argparse.Namespace
) -> None:
    if isinstance(outcome, ChromeGuardError):
        if args.json:
            error = {"url": url, "error": type(outcome).__name__, "message": str(outcome)}
            print(json.dumps(error))
        else:
            print(f"{url}\n  failed: {type(outcome).__name__}: {outcome}")
        return
    if args.json:
        data = asdict(outcome)
        if not args.include_links:
            del data["links"]
        del data["html"]
        print(json.dumps(data))
        return
    print(f"{outcome.url}\n  {outcome.title!r}, HTTP {outcome.status}, {outcome.elapsed:.2f} s")
    for d in outcome.downloads:
        print(f"  {d.url}  [{d.source}, {d.filename or '-'}, {d.mime or '-'}]")
    if args.include_links:
        for link in outcome.links:
            print(f"  link: {link}")


def _scrape(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {"wait_for": args.wait_for, "timeout": args.timeout}
    urls: list[str] = args.urls
    show_progress = sys.stderr.isatty() and len(urls) > 1
    with BrowserPool(size=args.concurrency) as pool:
        workers = args.concurrency or pool.size
        outcomes: list[ScrapeResult | ChromeGuardError | None] = [None] * len(urls)
        done = 0

        def one(index: int) -> None:
            nonlocal done
            outcomes[index] = pool.scrape_many([urls[index]], **options)[0]
            done += 1
            if show_progress:
                _progress(done, len(urls), sys.stderr)

        with ThreadPoolExecutor(max(1, min(workers, len(urls)))) as executor:
            list(executor.map(one, range(len(urls))))
    for url, outcome in zip(urls, outcomes):
        assert outcome is not None
        _print_result(url, outcome, args)
    return 0 if all(isinstance(o, ScrapeResult) for o in outcomes) else 1


def _shm_bytes() -> int | None:
    try:
        stat = os.statvfs("/dev/shm")
    except OSError:
        return None
    return stat.f_blocks * stat.f_frsize


def _doctor() -> int:
    problems: list[str] = []
    config = current_config()
    chrome = config.executable_path or _native.find_chrome(config.headless)
    print(f"chromeguard {__version__} ({_native.build_profile})")
    if chrome is None:
        print("Chrome: not found")
        problems.append(
            "no Chrome found: apt-get install chromium-headless-shell,"
            " or set CHROMEGUARD_CHROME_PATH"
        )
    else:
        print(f"Chrome: {chrome}")
    root = os.geteuid() == 0
    if config.sandbox is None:
        why = "running as root, where Chrome refuses its sandbox" if root else "not root"
        print(f"sandbox: {'off' if root else 'on'} (automatic: {why})")
    else:
        print(f"sandbox: {'on' if config.sandbox else 'off'} (set in the configuration)")
        if config.sandbox and root:
            problems.append(
                "sandbox=True as root: Chrome will refuse to start; set CHROMEGUARD_SANDBOX=0"
            )
    shm = _shm_bytes()
    if shm is None:
        print("/dev/shm: missing (Chrome is started with --disable-dev-shm-usage)")
    else:
        print(f"/dev/shm: {shm / 2**20:.0f} MiB")
        if shm < 512 * 2**20:
            print(
                "  small: Chrome is started with --disable-dev-shm-usage (pages use /tmp instead)"
            )
    profile_root = config.effective_profile_root
    stale = _native.find_stale_profiles(profile_root)
    print(f"profile root: {profile_root} ({len(stale)} stale profile(s))")
    if stale:
        problems.append(f"{len(stale)} stale profile(s): run `chromeguard cleanup`")
    free = shutil.disk_usage(os.path.dirname(profile_root) or "/").free
    if free < 256 * 2**20:
        problems.append(
            f"only {free / 2**20:.0f} MiB free for profiles:"
            " free disk space or move CHROMEGUARD_PROFILE_ROOT"
        )
    launchable = False
    if chrome is not None:
        started = time.perf_counter()
        try:
            with create_browser() as browser:
                launched = time.perf_counter() - started
                print(f"launch: {launched * 1000:.0f} ms, {browser.version}, pid {browser.pid}")
            launchable = True
        except BrowserLaunchError as exc:
            print(f"launch: failed ({exc.reason}) after {exc.attempts} attempt(s)")
            problems.append(str(exc))
    for problem in problems:
        print(f"problem: {problem}")
    if not problems:
        print("no problems found")
    return 0 if launchable else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "scrape":
            return _scrape(args)
        if args.command == "doctor":
            return _doctor()
        if args.command == "cleanup":
            root = current_config().effective_profile_root
            removed = _native.cleanup_stale_profiles(root)
            print(f"removed {removed} stale profile(s) from {root}")
            return 0
        return demo.main()
    except ChromeGuardError as exc:
        print(f"chromeguard: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
