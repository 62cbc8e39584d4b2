"""A small static web server for a published site: enough for `kiosk demo` and the tests.

It does what the protocol asks of any server (SPEC 1.1 and 1.5): ETag with 304, single
byte ranges for resumed downloads, a Date header. A province uses nginx or a CDN instead
(docs/protocol.md).
"""

from __future__ import annotations

import email.utils
import logging
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)\Z")


class SiteHandler(BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # a demo or a test has no use for an access log on stderr

    def _file(self) -> Path | None:
        path = self.path.split("?", 1)[0]
        if not re.match(
            r"^/(channels/[a-z0-9][a-z0-9-]{0,63}/manifest\.json|assets/[0-9a-f]{64}"
            r"|releases/[A-Za-z0-9][A-Za-z0-9.+!_-]{0,79}\.json)$",
            path,
        ):
            return None
        file = self.server.root / path.lstrip("/")
        return file if file.is_file() else None

    def _send_empty(self, status: HTTPStatus, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self.do_GET(body=False)

    def do_GET(self, body: bool = True) -> None:
        file = self._file()
        if file is None:
            self._send_empty(HTTPStatus.NOT_FOUND)
            return
        data = file.read_bytes()
        st = file.stat()
        etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
        manifest = file.name in ("manifest.json", "rollout.json")  # short cache, never ranged
        headers = {
            "ETag": etag,
            "Cache-Control": "no-cache" if manifest else "public, max-age=31536000, immutable",
            "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True),
        }
        if self.headers.get("If-None-Match") == etag:
            self._send_empty(HTTPStatus.NOT_MODIFIED, headers)
            return
        status = HTTPStatus.OK
        match = _RANGE.match(self.headers.get("Range", ""))
        if match and not manifest:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            if start >= len(data) or end < start:
                self._send_empty(
                    HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    {"Content-Range": f"bytes */{len(data)}"},
                )
                return
            end = min(end, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header(
            "Content-Type", "application/json" if manifest else "application/octet-stream"
        )
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.write_body(data)

    def write_body(self, data: bytes) -> None:
        self.wfile.write(data)

    def do_POST(self) -> None:
        """Heartbeats (SPEC 1.6) are taken and dropped: the demo has no fleet to report to."""
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 1 << 20))
        ok = re.match(r"^/devices/[a-z0-9][a-z0-9-]{2,63}/heartbeat\Z", self.path)
        self._send_empty(HTTPStatus.NO_CONTENT if ok else HTTPStatus.NOT_FOUND)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, handler: type = SiteHandler) -> None:
        self.root = root
        super().__init__(address, handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is normal on the internet: one line, no traceback."""
        exc = sys.exc_info()[1]
        log.debug("site server: %s from %s: %s", type(exc).__name__, client_address, exc)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, args=(0.1,), name="site", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def start_site(root: Path, port: int, flag: str = "--port") -> SiteServer:
    """The site served on 127.0.0.1:port, started; UsageError naming the flag that chooses
    another port when this one is taken."""
    from kiosk.core.errors import UsageError

    try:
        server = SiteServer(("127.0.0.1", port), root)
    except OSError as exc:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{port} ({exc.strerror}); pass {flag} N"
        ) from None
    server.start()
    return server
