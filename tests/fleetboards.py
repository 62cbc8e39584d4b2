"""Boards for the fleet tests: real HTTP servers on 127.0.0.1, each answering a /health
document recorded from a running kiosk (tests/data/fleet/health-ok.json), edited to play
a board in trouble; and boards that hang, answer nonsense, or are not there at all."""

from __future__ import annotations

import contextlib
import copy
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from kiosk.board.healthsrv import HealthCollector
from tests.loopback import Loopback

DATA = Path(__file__).parent / "data" / "fleet"
RECORDED = json.loads((DATA / "health-ok.json").read_text("utf-8"))


def recorded(
    device_id: str,
    unit_name: str,
    status: str = "ok",
    problems: tuple[str, ...] = (),
    current: tuple[str, str] | None = ("tinh-08", "a"),
    temp: float | None = 61.5,
    last_sync: str | None = "2026-11-23T08:30:00+07:00",
) -> dict[str, Any]:
    """The recorded document, as board `device_id` in this state would answer."""
    doc = copy.deepcopy(RECORDED)
    doc["status"] = status
    doc["problems"] = [
        {"code": c, "message": f"{c} (recorded)", "since": "2026-11-23T08:00:00+07:00"}
        for c in problems
    ]
    doc["device"].update(id=device_id, unit_name=unit_name, name=f"Bảng tin {unit_name}")
    doc["display"]["current_item"] = (
        dict(zip(("channel", "id"), current, strict=True)) if current else None
    )
    doc["system"]["cpu_temp_c"] = temp
    doc["sync"]["last_success_at"] = last_sync
    return doc


class _Recorded:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def document(self) -> dict[str, Any]:
        return self.doc


def metrics_text(doc: dict[str, Any]) -> bytes:
    """/metrics as the kiosk's own collector writes it for this /health document."""
    registry = CollectorRegistry()
    registry.register(HealthCollector(_Recorded(doc)))  # type: ignore[arg-type]
    return generate_latest(registry)


class HealthBoard(Loopback, ThreadingHTTPServer):
    """A board's health server: answers `doc` (503 when failing) and its /metrics, or
    hangs first, or answers `body` (not a kiosk)."""

    daemon_threads = True

    def __init__(
        self, doc: dict | None = None, hang_s: float = 0, body: bytes | None = None
    ) -> None:
        self.doc, self.hang_s, self.body = doc, hang_s, body
        super().__init__(("127.0.0.1", 0), _Handler)
        self.serve_in_background()


class _Handler(BaseHTTPRequestHandler):
    server: HealthBoard

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.server.hang_s:
            time.sleep(self.server.hang_s)
        doc = self.server.doc
        if doc is not None and self.path == "/metrics":
            self._send(200, metrics_text(doc), CONTENT_TYPE_LATEST)
            return
        body = self.server.body if doc is None else json.dumps(doc).encode()
        failing = doc is not None and doc["status"] == "failing"
        self._send(503 if failing else 200, body or b"", "application/json" if doc else "text/html")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(ConnectionError):  # a client that gave up waiting
            self.wfile.write(body)
