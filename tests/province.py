"""A province for tests: a signing key, a published site, and a real HTTP server on
127.0.0.1 that serves it (kiosk.demo.sitesrv) and misbehaves on request, noting every
request."""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import os
import random
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from kiosk.core.fsutil import atomic_write
from kiosk.core.signing import public_key_text, raw_public_key, sign_envelope
from kiosk.demo.sitesrv import SiteHandler, SiteServer


@dataclass
class Request:
    method: str
    path: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class FaultyHandler(SiteHandler):
    server: FaultyServer

    def send_response(self, code, message=None):
        if self.server.requests and self.server.requests[-1].status == 0:
            self.server.requests[-1].status = int(code)
        super().send_response(code, message)

    def _fault(self) -> str | None:
        self.server.requests.append(
            Request(self.command, self.path, headers=dict(self.headers.items()))
        )
        limit = self.server.max_header_line
        if limit and any(len(k) + len(v) + 2 > limit for k, v in self.headers.items()):
            return "400"  # as nginx answers a header line longer than its buffers
        queue = self.server.faults.get(self.path.split("?")[0])
        return queue.pop(0) if queue else None

    def do_GET(self, body: bool = True) -> None:
        fault = self._fault()
        if fault == "hang":
            self.server.stopping.wait(60)
            self.close_connection = True
        elif fault is not None and fault.isdigit():  # "403", "500": that status, no body
            self._send_empty(int(fault))
        elif fault == "trickle":  # the headers, then one byte every trickle_s, without end
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 20))
            self.end_headers()
            while not self.server.stopping.wait(self.server.trickle_s):
                self.wfile.write(b" ")
                self.wfile.flush()
        elif fault == "reset":
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif fault == "redirect":
            self._send_empty(302, {"Location": self.path})
        elif fault == "truncate":
            self.truncate = True
            super().do_GET(body)
        elif fault == "half":  # half the body, then nothing more until the server stops
            self.half = True
            super().do_GET(body)
        else:
            super().do_GET(body)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword == "Date" and self.server.date_offset:
            value = _http_date(datetime.now(UTC) + self.server.date_offset)
        value = self.server.headers.get(keyword, value)  # a header as a hostile server sends it
        super().send_header(keyword, value)

    def write_body(self, data: bytes) -> None:
        if getattr(self, "half", False):
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._sent(len(data) // 2)
            self.server.stopping.wait(120)
            self.close_connection = True
            return
        if self._write_body(data):
            self._sent(len(data))

    def _sent(self, length: int) -> None:
        """Tell the test, once those bytes are on the wire (a power cut at that moment)."""
        if self.server.on_sent is not None:
            self.server.on_sent(self.path.split("?")[0], length)

    def _write_body(self, data: bytes) -> bool:
        """True when the whole body went out."""
        if getattr(self, "truncate", False):
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.request.shutdown(socket.SHUT_RDWR)
            return False
        rate = self.server.bytes_per_s
        if not rate:
            self.wfile.write(data)
            return True
        step = max(1024, rate // 20)
        for start in range(0, len(data), step):
            self.wfile.write(data[start : start + step])
            time.sleep(step / rate)
        return True


def _http_date(moment: datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


class FaultyServer(SiteServer):
    def __init__(self, root: Path, port: int = 0) -> None:
        self.requests: list[Request] = []
        self.faults: dict[str, list[str]] = {}
        self.stopping = threading.Event()
        self.bytes_per_s = 0
        self.date_offset: timedelta | None = None
        self.headers: dict[str, str] = {}  # replace these headers' values in every answer
        self.trickle_s = 2.0
        self.max_header_line: int | None = None  # nginx's large_client_header_buffers: 8k
        self.on_sent: Callable[[str, int], None] | None = None  # (path, body bytes) when sent
        super().__init__(("127.0.0.1", port), root, FaultyHandler)

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def gets(self, prefix: str = "/") -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and r.path.startswith(prefix)]


def png_bytes(
    size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def noise_png(seed: int, size: tuple[int, int] = (256, 256)) -> bytes:
    """A PNG that does not compress (so a download takes a while when throttled)."""
    rnd = random.Random(seed)
    img = Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=0)
    return out.getvalue()


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A valid 1-bit PNG of width x height pixels whose file is tiny: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\0" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Province:
    """Publishes manifests (any payload, even broken ones) and assets into a served site."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.site = root
        self.key = Ed25519PrivateKey.generate()
        self.public_key = public_key_text(raw_public_key(self.key))
        self.server = FaultyServer(root, port)
        self.sequences: dict[str, int] = {}

    @property
    def url(self) -> str:
        return self.server.url

    def asset(self, data: bytes, media_type: str = "image/png") -> dict:
        atomic_write(self.site / "assets" / sha(data), data)
        return {"sha256": sha(data), "size": len(data), "media_type": media_type}

    def payload(
        self, channel: str, items: list[dict], sequence: int | None = None, **extra
    ) -> dict:
        if sequence is None:
            sequence = self.sequences.get(channel, 0) + 1
        self.sequences[channel] = max(sequence, self.sequences.get(channel, 0))
        now = datetime.now(UTC).replace(microsecond=0)
        doc = {
            "format": 1,
            "channel": channel,
            "sequence": sequence,
            "issued_at": (now - timedelta(minutes=1)).isoformat(),
            "expires_at": (now + timedelta(days=14)).isoformat(),
            "items": items,
        }
        doc.update(extra)
        return doc

    def publish(
        self, channel: str, items: list[dict], key: Ed25519PrivateKey | None = None, **extra
    ) -> dict:
        doc = self.payload(channel, items, **extra)
        self.write_envelope(channel, sign_envelope(json.dumps(doc).encode(), key or self.key))
        return doc

    def write_envelope(self, channel: str, envelope: bytes) -> None:
        path = self.site / "channels" / channel / "manifest.json"
        atomic_write(path, envelope)
        # a new mtime for the ETag even within the file system's timestamp granularity
        later = time.time_ns() + len(self.server.requests)
        os.utime(path, ns=(later, later))


def text(ident: str, title: str = "Thông báo", **extra) -> dict:
    return {"id": ident, "type": "text", "title": title, "body": "Nội dung " + ident, **extra}


def image(ident: str, asset: dict, **extra) -> dict:
    return {"id": ident, "type": "image", "asset": asset, **extra}


def ticker(ident: str, line: str = "Chữ chạy", **extra) -> dict:
    return {"id": ident, "type": "ticker", "text": line, **extra}
