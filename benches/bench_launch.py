"""Launch and transport benchmark (``make bench``): prints a table.

1. Cold start: `chromeguard.create_browser()` (launch mutex, private profile, DevTools ready,
   first page attached) against a bare start of the same binary to its first DevTools reply.
2. CDP round trip: 1,000 ``Runtime.evaluate("1")`` through chromeguard against the same calls
   written straight onto Chrome's DevTools pipe from this process (Chrome's own work plus the
   unavoidable pipe I/O), p50 and p99.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import chromeguard


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class BarePipeChrome:
    """Chrome started by hand with --remote-debugging-pipe: the baseline without chromeguard."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="bench-bare-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chrome reads commands on fd 3 and writes replies on fd 4.
        fd3, fd4 = os.dup(to_chrome_r), os.dup(from_chrome_w)

        def child_fds() -> None:
            os.dup2(fd3, 3)
            os.dup2(fd4, 4)

        args = [binary, "--headless", "--remote-debugging-pipe", f"--user-data-dir={self.profile}"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # close_fds would close 3 and 4 after preexec_fn; every other fd is close-on-exec.
            close_fds=False,
            preexec_fn=child_fds,
            # Chrome's socket dirs go to TMPDIR: keep them inside the profile, removed with it.
            env={**os.environ, "TMPDIR": self.profile},
            start_new_session=True,
        )
        for fd in (to_chrome_r, from_chrome_w, fd3, fd4):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0

    def call(
        self, method: str, params: dict[str, object] | None = None, session: str | None = None
    ) -> dict[str, object]:
        self._next_id += 1
        message: dict[str, object] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_chrome, 65536)
                if not chunk:
                    raise RuntimeError("Chrome closed the pipe")
                self._buffer += chunk
            raw, _, self._buffer = self._buffer.partition(b"\0")
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:
                return reply  # type: ignore[no-any-return]

    def close(self) -> None:
        os.killpg(self.process.pid, 9)
        self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)


@contextmanager
def bare(binary: str) -> Iterator[BarePipeChrome]:
    chrome = BarePipeChrome(binary)
    try:
        yield chrome
    finally:
        chrome.close()


def time_calls(call: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--launches", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--binary", default=chromeguard.find_chrome())
    args = parser.parse_args()
    binary: str = args.binary
    rows: list[tuple[str, str, str, str]] = []

    def bare_start() -> None:
        with bare(binary) as chrome:
            chrome.call("Browser.getVersion")

    def bare_start_with_page() -> None:
        with bare(binary) as chrome:
            target = chrome.call("Target.createTarget", {"url": "about:blank"})["result"]
            session = chrome.call(
                "Target.attachToTarget",
                {"targetId": target["targetId"], "flatten": True},  # type: ignore[index]
            )["result"]["sessionId"]  # type: ignore[index]
            chrome.call("Page.enable", {}, session)

    def guarded_start() -> None:
        chromeguard.create_browser(executable_path=binary).close()

    guarded_start()  # warm the page cache and the one-time stale-profile sweep
    for name, run in (
        ("bare start to DevTools reply", bare_start),
        ("bare start + first page attached", bare_start_with_page),
        ("create_browser() + close()", guarded_start),
    ):
        starts = []
        for _ in range(args.launches):
            start = time.perf_counter()
            run()
            starts.append(time.perf_counter() - start)
        rows.append(
            (
                name,
                f"{statistics.median(starts) * 1000:.1f} ms",
                f"{percentile(starts, 95) * 1000:.1f} ms",
                f"n={args.launches}, incl. close",
            )
        )

    launch_only = []
    for _ in range(args.launches):
        start = time.perf_counter()
        browser = chromeguard.create_browser(executable_path=binary)
        launch_only.append(time.perf_counter() - start)
        browser.close()
    rows.append(
        (
            "create_browser() without close",
            f"{statistics.median(launch_only) * 1000:.1f} ms",
            f"{percentile(launch_only, 95) * 1000:.1f} ms",
            "launch until a page is attached",
        )
    )

    with bare(binary) as chrome:
        target = chrome.call("Target.createTarget", {"url": "about:blank"})["result"]
        session = chrome.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )["result"]["sessionId"]  # type: ignore[index]
        direct = time_calls(
            lambda: chrome.call("Runtime.evaluate", {"expression": "1"}, session), args.calls
        )
    with chromeguard.create_browser(executable_path=binary) as browser:
        guarded = time_calls(
            lambda: browser.execute_cdp_cmd("Runtime.evaluate", {"expression": "1"}), args.calls
        )
    for name, samples in (
        ("Runtime.evaluate, raw pipe", direct),
        ("Runtime.evaluate, chromeguard", guarded),
    ):
        rows.append(
            (
                name,
                f"{percentile(samples, 50) * 1000:.3f} ms",
                f"{percentile(samples, 99) * 1000:.3f} ms",
                f"n={args.calls} (p50, p99)",
            )
        )
    overhead = (percentile(guarded, 50) - percentile(direct, 50)) * 1000
    rows.append(
        (
            "chromeguard overhead per call",
            f"{overhead:.3f} ms",
            "",
            "p50 difference; target <= 5 ms",
        )
    )

    print(
        f"chromeguard {chromeguard.__version__} ({chromeguard._native.build_profile}), "
        f"{binary}, {os.cpu_count()} CPUs"
    )
    widths = [
        max(len(r[i]) for r in [*rows, ("measure", "p50", "p95/p99", "notes")]) for i in range(4)
    ]
    header = ("measure", "p50", "p95/p99", "notes")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
