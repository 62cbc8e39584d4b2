"""The health endpoints of SPEC 3.2 on `health.listen`: `/health` (JSON), `/metrics`
(Prometheus), `/screenshot.png` and `/`, the status page. Nothing served here changes
anything on the board.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from kiosk.health import FAILING_CODES, PROBLEM_CODES
from kiosk.reporter import Reporter
from kiosk.screenshot import Screenshots
from kiosk.statuspage import render as render_status_page

log = logging.getLogger(__name__)


def _timestamp(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


class HealthCollector(Collector):
    """/metrics from the same document as /health, so the two never disagree."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def collect(self) -> Iterator[Any]:
        doc = self.reporter.document()
        device = doc["device"]
        info = InfoMetricFamily("kiosk", "The board and its software")
        info.add_metric([], {"version": doc["version"], "device_id": device["id"]})
        yield info
        status = GaugeMetricFamily("kiosk_status", "1 for the board's status", labels=["status"])
        for name in ("ok", "degraded", "failing"):
            status.add_metric([name], 1.0 if doc["status"] == name else 0.0)
        yield status
        problems = GaugeMetricFamily(
            "kiosk_problems", "Problems of each code now", labels=["code", "severity"]
        )
        for code in PROBLEM_CODES:
            count = sum(1 for p in doc["problems"] if p["code"] == code)
            severity = "failing" if code in FAILING_CODES else "degraded"
            problems.add_metric([code, severity], float(count))
        yield problems
        gauges = {
            "kiosk_uptime_seconds": ("Seconds since the kiosk started", doc["uptime_s"]),
            "kiosk_items_active": ("Items in the rotation now", doc["content"]["items_active"]),
            "kiosk_emergency_active": (
                "1 while an emergency item is shown",
                1.0 if doc["content"]["emergency_active"] else 0.0,
            ),
            "kiosk_sync_consecutive_failures": (
                "Syncs failed in a row",
                doc["sync"]["consecutive_failures"],
            ),
            "kiosk_sync_last_success_timestamp_seconds": (
                "Unix time of the last good sync",
                _timestamp(doc["sync"]["last_success_at"]),
            ),
            "kiosk_display_last_frame_timestamp_seconds": (
                "Unix time the display loop last turned",
                _timestamp(doc["display"]["last_frame_at"]),
            ),
            "kiosk_cpu_temperature_celsius": ("CPU temperature", doc["system"]["cpu_temp_c"]),
            "kiosk_load1": ("Load average over a minute", doc["system"]["load_1m"]),
            "kiosk_memory_available_megabytes": (
                "Memory available",
                doc["system"]["mem_available_mb"],
            ),
            "kiosk_disk_free_megabytes": (
                "Free space for the cache",
                doc["system"]["disk_free_mb"],
            ),
            "kiosk_clock_skew_seconds": (
                "The source's clock minus the board's",
                doc["system"]["clock_skew_s"],
            ),
        }
        for name, (text, value) in gauges.items():
            if value is not None:  # a value this machine cannot read is left out, not faked
                yield GaugeMetricFamily(name, text, value=float(value))
        sequences = GaugeMetricFamily(
            "kiosk_channel_sequence", "Sequence of the manifest held", labels=["channel"]
        )
        for channel, held in doc["sync"]["channels"].items():
            if held["sequence"] is not None:
                sequences.add_metric([channel], float(held["sequence"]))
        yield sequences


class HealthHandler(BaseHTTPRequestHandler):
    server: HealthServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("health: %s", format % args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            doc = self.server.reporter.document()
            code = HTTPStatus.SERVICE_UNAVAILABLE if doc["status"] == "failing" else HTTPStatus.OK
            body = json.dumps(doc, ensure_ascii=False, indent=1).encode()
            self._send(code, body, "application/json; charset=utf-8")
        elif path == "/":
            body = render_status_page(self.server.reporter.document()).encode()
            self._send(HTTPStatus.OK, body, "text/html; charset=utf-8")
        elif path == "/screenshot.png":
            png = self.server.screenshots.png() if self.server.screenshots else None
            if png is None:
                self._send(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    b"the display loop did not hand over a frame\n",
                    "text/plain; charset=utf-8",
                )
            else:
                self._send(HTTPStatus.OK, png, "image/png")
        elif path == "/metrics":
            body = generate_latest(self.server.registry)
            self._send(HTTPStatus.OK, body, "text/plain; version=0.0.4; charset=utf-8")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")


class HealthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], reporter: Reporter, screenshots: Screenshots | None = None
    ) -> None:
        self.reporter, self.screenshots = reporter, screenshots
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(HealthCollector(reporter))
        super().__init__(address, HealthHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            return  # a phone that walked away mid-answer
        log.error("health request from %s failed: %r", client_address, exc)

    def start(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, args=(0.5,), name="health", daemon=True
        )
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
