"""The demo: serves the small site bundled with chromeguard on 127.0.0.1 and scrapes each of its
pages for the direct download URLs a mobile app would fetch (links added by scripts included).

Run it with ``python -m chromeguard.demo`` (``make demo``).
"""

from __future__ import annotations

import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .scraping import BrowserPool, ScrapeResult

__all__ = ["SITE_DIR", "main", "serve_site"]

SITE_DIR = Path(__file__).with_name("demo_site")
"""The bundled site."""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_site(directory: Path = SITE_DIR) -> ThreadingHTTPServer:
    """Serves `directory` on 127.0.0.1 with a free port, from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    """Runs the demo and prints what it found; returns the exit status."""
    server = serve_site()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages = [f"{base}/index.html", f"{base}/releases.html"]
    print(f"Serving the bundled site at {base}")
    started = time.perf_counter()
    try:
        with BrowserPool(size=len(pages)) as pool:
            results = pool.scrape_many(pages)
    finally:
        server.shutdown()
        server.server_close()
    total = 0
    for page, result in zip(pages, results):
        print(f"\n{page}")
        if not isinstance(result, ScrapeResult):
            print(f"  failed: {result}")
            continue
        print(f"  {result.title!r}, HTTP {result.status}, {result.elapsed * 1000:.0f} ms")
        for download in result.downloads:
            kind = download.mime or "type unknown"
            print(f"  {download.url}  [{download.source}, {download.filename}, {kind}]")
        total += len(result.downloads)
    elapsed = time.perf_counter() - started
    print(
        f"\n{total} download URLs on {len(pages)} pages in {elapsed:.2f} s, browser start included"
    )
    return 0 if total and all(isinstance(r, ScrapeResult) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
