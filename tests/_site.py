"""The local fixture site, served on 127.0.0.1 with a free port."""

from __future__ import annotations

import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SITE_DIR = Path(__file__).with_name("site")


class Handler(SimpleHTTPRequestHandler):
    """Static files from tests/site plus a few dynamic routes:

    /status/<code>   an HTML page with that HTTP status
    /slow?s=<sec>    answers after <sec> seconds (at most 30)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(SITE_DIR), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _html(self, code: int, body: str) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._html(code, f"<title>status {code}</title><p>status {code}</p>")
        elif path == "/slow":
            seconds = min(float(query.partition("=")[2] or 5), 30.0)
            time.sleep(seconds)
            self._html(200, "<title>slow</title>")
        else:
            super().do_GET()


class Site:
    """A running fixture server; `url(path)` builds absolute URLs."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
