"""The local fixture site, served on 127.0.0.1 with a free port."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SITE_DIR = Path(__file__).with_name("site")

Route = tuple[int, dict[str, str], bytes]


class Handler(SimpleHTTPRequestHandler):
    """Static files from tests/site plus dynamic routes for every download pattern:

    /status/<code>       an HTML page with that HTTP status
    /slow?s=<sec>        answers after <sec> seconds (at most 30)
    /redirect?n=&to=     a chain of n redirects ending at `to`
    /download/42         302 to /files/app-1.2.3.apk
    /get?id=7            two redirects to /files/data.zip
    /download/nohead     HEAD is refused (405); GET redirects to /files/archive.zip
    /download/cdn        302 to another origin (localhost instead of 127.0.0.1)
    /export/report       a CSV with Content-Disposition: attachment
    /dl/page             an HTML page (looks like a download, is not)
    /attachment/<name>   a PDF with Content-Disposition: attachment
    /bin/blob.dat        application/octet-stream
    /api/links           JSON list of links
    /set-cookie          sets a cookie
    /blob/report         a CSV without a file extension
    /private-sub         a page loading subresources from 127.0.0.1
    /reset               resets the connection
    /never               a page whose body never ends (for 30 s)
    /endless-download    an attachment whose body never ends (for 30 s)
    /big                 a 50 MB page
    /headers             echoes the X-Test request header in its title
    /login               logs in: an HttpOnly session cookie and a localStorage token
    /account             shows the session cookie and the token in its title
    /login-submit        the login form's target: a session cookie for the right password
    /members             download links for logged-in users only
    """

    server: SiteServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(SITE_DIR), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _route(self) -> Route | None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        port = self.server.server_address[1]
        html = {"Content-Type": "text/html; charset=utf-8"}

        def redirect(to: str) -> Route:
            return 302, {"Location": to}, b""

        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return code, html, f"<title>status {code}</title><p>status {code}</p>".encode()
        if path == "/slow":
            time.sleep(min(float(query.get("s", ["5"])[0]), 30.0))
            return 200, html, b"<title>slow</title>"
        if path == "/redirect":
            n = int(query.get("n", ["1"])[0])
            to = query.get("to", ["/"])[0]
            return redirect(f"/redirect?n={n - 1}&to={to}" if n > 1 else to)
        if path == "/download/42":
            return redirect("/files/app-1.2.3.apk")
        if path == "/get":
            return redirect("/redirect?n=1&to=/files/data.zip")
        if path == "/download/nohead":
            if self.command == "HEAD":
                return 405, {"Allow": "GET"}, b""
            return redirect("/files/archive.zip")
        if path == "/download/cdn":
            return redirect(f"http://localhost:{port}/files/cdn.bin")
        if path == "/export/report":
            return (
                200,
                {
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Disposition": 'attachment; filename="report 2026.csv"',
                },
                b"a,b\n1,2\n",
            )
        if path == "/dl/page":
            return 200, html, b"<title>just a page</title>"
        if path.startswith("/attachment/"):
            name = path.rsplit("/", 1)[1]
            return (
                200,
                {
                    "Content-Type": "application/pdf",
                    "Content-Disposition": f'attachment; filename="{name}"',
                },
                b"%PDF-1.4 fixture",
            )
        if path == "/bin/blob.dat":
            return 200, {"Content-Type": "application/octet-stream"}, b"\x00\x01\x02"
        if path == "/api/links":
            return (
                200,
                {"Content-Type": "application/json"},
                json.dumps(["/files/api.zip"]).encode(),
            )
        if path == "/set-cookie":
            headers = {**html, "Set-Cookie": "session=abc; Path=/"}
            return (
                200,
                headers,
                b"<title>cookie set</title><script>localStorage.setItem('seen','yes')</script>",
            )
        if path == "/private-sub":
            # A page whose subresources go to the loopback address (the page itself is served
            # under a name mapped to 127.0.0.1 only inside Chrome).
            body = (
                f'<title>private-sub</title><iframe src="http://127.0.0.1:{port}/attachment/secret.pdf">'
                f'</iframe><script>fetch("http://127.0.0.1:{port}/bin/blob.dat?secret")</script>'
            )
            return 200, html, body.encode()
        if path == "/login":
            headers = {**html, "Set-Cookie": "session=s3cret; Path=/; HttpOnly"}
            body = b"<title>logged in</title><script>localStorage.setItem('token', 't1')</script>"
            return 200, headers, body
        if path == "/login-submit":
            user = query.get("user", [""])[0]
            if query.get("password", [""])[0] != "secret" or not user:
                return 403, html, b"<title>wrong password</title>"
            return 302, {"Location": "/account", "Set-Cookie": f"session={user}-token; Path=/"}, b""
        if path == "/members":
            session = self._cookie("session")
            if session is None:
                return 200, html, b"<title>Members</title><p>Please log in.</p>"
            links = "".join(
                f'<li><a href="/files/{name}">{name}</a></li>'
                for name in ("members-guide.pdf", "members-app.apk", "members-data.zip")
            )
            body = f'<title>Members</title><ul id="downloads">{links}</ul><a href="/">Home</a>'
            return 200, html, body.encode()
        if path == "/account":
            session = self._cookie("session") or "anonymous"
            script = "document.title += ';token:' + (localStorage.getItem('token') || 'none')"
            body = f"<title>account:{session}</title><script>{script}</script>"
            return 200, html, body.encode()
        if path == "/headers":
            seen = self.headers.get("X-Test", "none")
            return 200, html, f"<title>x-test:{seen}</title>".encode()
        if path == "/blob/report":
            return 200, {"Content-Type": "text/csv"}, b"a,b\n"
        return None

    def _cookie(self, wanted: str) -> str | None:
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == wanted:
                return value
        return None

    def _stream(self, path: str) -> bool:
        """Routes that write their own (misbehaving) responses; True if `path` was one."""
        if path == "/reset":
            # Close with SO_LINGER 0: the client sees a connection reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return True
        if path in ("/never", "/endless-download"):
            self.send_response(200)
            if path == "/never":
                self.send_header("Content-Type", "text/html")
            else:
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Disposition", 'attachment; filename="endless.bin"')
            self.end_headers()
            chunk = b"<p>still loading</p>" if path == "/never" else b"\0" * 1024
            deadline = time.monotonic() + 30
            try:
                while time.monotonic() < deadline:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            self.close_connection = True
            return True
        if path == "/big":
            row = b"<p>" + b"x" * 1016 + b"</p>\n"
            rows = 50 * 1024 * 1024 // len(row)
            title = b"<title>big</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(title) + rows * len(row)))
            self.end_headers()
            try:
                self.wfile.write(title)
                for _ in range(rows):
                    self.wfile.write(row)
            except OSError:
                pass
            return True
        return False

    def _answer(self, with_body: bool) -> None:
        self.server.log_request(self.command, self.path, self.headers.get("Range"))
        if self._stream(urlsplit(self.path).path):
            return
        route = self._route()
        if route is None:
            if with_body:
                super().do_GET()
            else:
                super().do_HEAD()
            return
        status, headers, body = route
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)


class SiteServer(ThreadingHTTPServer):
    """Remembers every request (method, path, Range header) for assertions."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str, str | None]] = []
        self._lock = threading.Lock()

    def log_request(self, method: str, path: str, range_header: str | None) -> None:
        with self._lock:
            self.requests.append((method, path, range_header))


class Site:
    """A running fixture server; `url(path)` builds absolute URLs."""

    def __init__(self) -> None:
        self.server = SiteServer()
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[tuple[str, str | None]]:
        """(method, Range header) of every request whose path starts with `path`."""
        with self.server._lock:
            return [(m, r) for m, p, r in self.server.requests if p.startswith(path)]

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
