"""An HTTP server on 127.0.0.1 that answers exactly the bytes it is given: a status line,
headers and a body that may lie, in pieces with pauses between them. What an attacker on the
path, a broken CDN or a hostile board sends; used by the wire fuzz tests."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import time
from dataclasses import dataclass, field

from tests.loopback import Loopback

MAX_REQUEST = 1 << 20


@dataclass
class Reply:
    head: bytes  # the status line and headers, each ending in CRLF, without the blank line
    body: bytes = b""
    pieces: int = 1  # the body is sent in this many pieces ...
    gap_s: float = 0.0  # ... with this pause before each
    requests: list[bytes] = field(default_factory=list)  # what the client sent

    def __repr__(self) -> str:  # a failing example, readable (not 70 kB of header)
        lines = [
            line[:80] + (b"..." if len(line) > 80 else b"") for line in self.head.split(b"\r\n")
        ]
        return (
            f"Reply(head={lines!r}, body={self.body[:60]!r}... ({len(self.body)} bytes), "
            f"pieces={self.pieces}, gap_s={self.gap_s})"
        )


class _Handler(socketserver.BaseRequestHandler):
    server: RawServer

    def handle(self) -> None:
        reply = self.server.reply
        sock: socket.socket = self.request
        sock.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and value.strip().isdigit():
                    length = min(int(value), MAX_REQUEST)
            while len(rest) < length:  # a POST's body (the heartbeat's)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            reply.requests.append(head)
            sock.sendall(reply.head + b"\r\n\r\n")
            size = max(1, -(-len(reply.body) // max(1, reply.pieces)))
            for start in range(0, len(reply.body), size):
                if reply.gap_s:
                    time.sleep(reply.gap_s)
                sock.sendall(reply.body[start : start + size])
        except OSError:
            pass  # the client gave up first: that is its right
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class RawServer(Loopback, socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.reply = Reply(b"HTTP/1.1 204 No Content\r\nContent-Length: 0")
        super().__init__(("127.0.0.1", 0), _Handler)
        self.serve_in_background()
