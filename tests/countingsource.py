"""The province's side for the benchmarks and the soak: signed playlists published into a
static site, served on 127.0.0.1 by a server that counts every byte it exchanges."""

from __future__ import annotations

import email.utils
import json
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.authoring import parse_playlist
from kiosk.core.signing import public_key_text, raw_public_key
from kiosk.demo.sitesrv import SiteHandler, SiteServer
from kiosk.province.publish import Published, publish_playlist


class _Counted:
    """A socket file whose reads and writes are added to the server's byte count."""

    def __init__(self, file, server: CountingSite) -> None:
        self._file, self._server = file, server

    def read(self, *args):
        data = self._file.read(*args)
        self._server.count(len(data))
        return data

    def readline(self, *args):
        data = self._file.readline(*args)
        self._server.count(len(data))
        return data

    def write(self, data):
        self._server.count(len(data))
        return self._file.write(data)

    def __getattr__(self, name: str):
        return getattr(self._file, name)


class _CountingHandler(SiteHandler):
    server: CountingSite

    def setup(self) -> None:
        super().setup()
        self.rfile = _Counted(self.rfile, self.server)  # type: ignore[assignment]
        self.wfile = _Counted(self.wfile, self.server)  # type: ignore[assignment]

    def date_time_string(self, timestamp: float | None = None) -> str:
        if timestamp is None and self.server.wall is not None:
            return email.utils.format_datetime(self.server.wall().astimezone(UTC), usegmt=True)
        return super().date_time_string(timestamp)


class CountingSite(SiteServer):
    """HTTP bytes (request and response, headers included) of every exchange, and the Date
    header from `wall` when given (the soak's simulated clock)."""

    def __init__(self, root: Path, wall: Callable[[], datetime] | None = None) -> None:
        self.wall = wall
        self.bytes = 0
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), root, _CountingHandler)

    def count(self, n: int) -> None:
        with self._lock:
            self.bytes += n


class Province:
    """A signing key and a site folder; publishes channels from items as authors write them."""

    def __init__(self, site: Path, authoring: Path) -> None:
        self.site, self.authoring = site, authoring
        self.key = Ed25519PrivateKey.generate()
        self.public_key = public_key_text(raw_public_key(self.key))

    def publish(
        self, channel: str, items: list[dict], now: datetime | None = None, days: float = 30
    ) -> Published:
        playlist = parse_playlist({"channel": channel, "items": items}, self.authoring / "p.toml")
        if playlist.errors:
            raise ValueError("; ".join(playlist.errors))
        return publish_playlist(playlist, self.key, self.site, now or datetime.now(UTC), days)


def free_port() -> int:
    """A loopback port nobody listens on now (the tests use it too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def board_config(
    folder: Path,
    url: str,
    public_key: str,
    size: str = "1920x1080",
    poll_seconds: int = 300,
    on_hours: str = "00:00-24:00",
    channels: tuple[str, ...] = ("tinh-08",),
    heartbeat_seconds: int = 60,
) -> Path:
    """A board's kiosk.toml (and its cache folder) under folder."""
    (folder / "cache").mkdir(parents=True, exist_ok=True)
    path = folder / "kiosk.toml"
    path.write_text(
        f"""[device]
id = "bench-02263-01"
unit_name = "UBND xã Tân Trào"
unit_kind = "xa"
province_code = "08"
commune_code = "02263"

[source]
url = "{url}"
channels = {json.dumps(list(channels))}
public_keys = ["{public_key}"]
poll_seconds = {poll_seconds}
heartbeat_seconds = {heartbeat_seconds}

[display]
size = "{size}"
on_hours = ["{on_hours}"]

[health]
listen = "127.0.0.1:{free_port()}"

[storage]
dir = "{folder / "cache"}"
""",
        "utf-8",
    )
    return path
