"""The demo: serves the small site bundled with chromeguard on 127.0.0.1 and finds, on each of
its pages, the direct download URLs a mobile app would fetch (links added by scripts included).

Run it with ``python -m chromeguard.demo`` (``make demo``).
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .browser import create_browser

__all__ = ["DOWNLOAD_EXTENSIONS", "SITE_DIR", "find_downloads", "main", "serve_site"]

SITE_DIR = Path(__file__).with_name("demo_site")
"""The bundled site."""

DOWNLOAD_EXTENSIONS = (".apk", ".pdf", ".zip", ".mp4", ".mp3")
"""What the demo counts as a download."""

_COLLECT = """
const urls = [];
for (const el of document.querySelectorAll('a[href], [src]')) {
  const url = el.href || el.src;
  if (url && !urls.includes(url)) urls.push(url);
}
return urls;
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_site(directory: Path = SITE_DIR) -> ThreadingHTTPServer:
    """Serves `directory` on 127.0.0.1 with a free port, from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def find_downloads(url: str) -> list[str]:
    """Loads `url` in an isolated browser and returns the download URLs on it."""
    with create_browser() as browser:
        browser.get(url)
        urls: list[str] = browser.execute_script(_COLLECT)
    return [u for u in urls if u.lower().endswith(DOWNLOAD_EXTENSIONS)]


def main() -> int:
    """Runs the demo and prints what it found; returns the exit status."""
    server = serve_site()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages = [f"{base}/index.html", f"{base}/releases.html"]
    print(f"Serving the bundled site at {base}")
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(len(pages)) as pool:
            results = list(pool.map(find_downloads, pages))
    finally:
        server.shutdown()
        server.server_close()
    for page, downloads in zip(pages, results):
        print(f"\n{page}")
        for download in downloads:
            print(f"  {download}")
    total = sum(len(d) for d in results)
    elapsed = time.perf_counter() - started
    print(f"\n{total} download URLs on {len(pages)} pages in {elapsed:.2f} s")
    return 0 if total else 1


if __name__ == "__main__":
    sys.exit(main())
