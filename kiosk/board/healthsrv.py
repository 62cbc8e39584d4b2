"""The health endpoints of SPEC 3.2 on `health.listen`: `/health` (JSON), `/metrics`
(Prometheus), `/screenshot.png` and `/`, the status page. Nothing served here changes
anything on the board.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from http import HTTPStatus
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from waitress import wasyncore
from waitress.server import create_server

from kiosk.board.reporter import Reporter
from kiosk.board.screenshot import Screenshots
from kiosk.board.statuspage import render as render_status_page
from kiosk.core.health import FAILING_CODES, PROBLEM_CODES

log = logging.getLogger(__name__)

WORKERS = 4  # threads answering requests; connections themselves hold none
MAX_CONNECTIONS = 256  # open at once; more wait in the listen backlog
PER_ADDRESS = 32  # open at once from one address (a browser opens 6): more are hung up on
IDLE_S = 15  # an idle connection is closed after this
CLEANUP_S = 5
MAX_HEADERS = 16 * 1024  # a request's line and headers; these pages take no body
MAX_BODY = 1024
TEXT = "text/plain; charset=utf-8"
NO_STORE = ("Cache-Control", "no-store")


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


class HealthApp:
    """The four pages, as a WSGI application."""

    def __init__(self, reporter: Reporter, screenshots: Screenshots | None) -> None:
        self.reporter, self.screenshots = reporter, screenshots
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(HealthCollector(reporter))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            status, body, kind = HTTPStatus.METHOD_NOT_ALLOWED, b"GET only\n", TEXT
        else:
            try:
                status, body, kind = self.page(environ.get("PATH_INFO") or "/")
            except Exception as exc:  # a bug in one page must not take the others down
                log.error("health page %s failed: %r", environ.get("PATH_INFO"), exc)
                status, body, kind = HTTPStatus.INTERNAL_SERVER_ERROR, b"error\n", TEXT
        start_response(
            f"{status.value} {status.phrase}",
            [("Content-Type", kind), ("Content-Length", str(len(body))), NO_STORE],
        )
        return [] if method == "HEAD" else [body]

    def page(self, path: str) -> tuple[HTTPStatus, bytes, str]:
        if path == "/health":
            doc = self.reporter.document()
            code = HTTPStatus.SERVICE_UNAVAILABLE if doc["status"] == "failing" else HTTPStatus.OK
            body = json.dumps(doc, ensure_ascii=False, indent=1).encode()
            return code, body, "application/json; charset=utf-8"
        if path == "/":
            body = render_status_page(
                self.reporter.document(), self.reporter.config.device.tz
            ).encode()
            return HTTPStatus.OK, body, "text/html; charset=utf-8"
        if path == "/screenshot.png":
            png = self.screenshots.png() if self.screenshots else None
            if png is None:
                message = b"the display loop did not hand over a frame\n"
                return HTTPStatus.SERVICE_UNAVAILABLE, message, TEXT
            return HTTPStatus.OK, png, "image/png"
        if path == "/metrics":
            body = generate_latest(self.registry)
            return HTTPStatus.OK, body, "text/plain; version=0.0.4; charset=utf-8"
        return HTTPStatus.NOT_FOUND, b"not found\n", TEXT


def _admit_per_address(server: Any, limit: int) -> None:
    """waitress makes a channel for every connection it accepts, up to connection_limit for
    all addresses together: a thousand idle connections from one address would fill it and
    /health would wait for them to time out. Here a connection from an address that already
    has `limit` open is closed as soon as it is accepted, so one address cannot crowd out a
    technician or the monitoring."""
    make = server.channel_class

    def admit(srv: Any, conn: Any, addr: Any, adj: Any, map: dict[int, Any]) -> Any:
        peer = addr[0] if isinstance(addr, tuple) else addr
        open_now = sum(
            1 for ch in map.values() if isinstance(ch, make) and ch.addr and ch.addr[0] == peer
        )
        if open_now >= limit:
            conn.close()
            return None
        return make(srv, conn, addr, adj, map=map)

    server.channel_class = admit


class HealthServer:
    """The pages on `health.listen`, served by waitress: one thread watches every socket and
    a few workers answer requests, so idle or slow connections hold no thread, idle ones are
    closed after IDLE_S, at most MAX_CONNECTIONS are open and PER_ADDRESS from one address,
    each with at most MAX_HEADERS of request: a thousand connections from one address cost
    the board little memory and do not keep /health from answering another."""

    def __init__(
        self,
        address: tuple[str, int],
        reporter: Reporter,
        screenshots: Screenshots | None = None,
        idle_s: int = IDLE_S,
    ) -> None:
        self.app = HealthApp(reporter, screenshots)
        self._map: dict[int, Any] = {}
        self._server = create_server(
            self.app,
            map=self._map,
            host=address[0],
            port=address[1],
            threads=WORKERS,
            connection_limit=MAX_CONNECTIONS,
            channel_timeout=idle_s,
            cleanup_interval=min(CLEANUP_S, idle_s),
            max_request_header_size=MAX_HEADERS,
            max_request_body_size=MAX_BODY,
            ident="kiosk",
            expose_tracebacks=False,
        )
        _admit_per_address(self._server, PER_ADDRESS)
        self.server_address = (self._server.effective_host, self._server.effective_port)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="health", daemon=True)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                wasyncore.loop(timeout=0.5, map=self._map, count=1)
            except Exception as exc:  # the pages must outlive a bug; noticed in the log
                log.error("health server: %r", exc)
        self._server.task_dispatcher.shutdown(timeout=2)
        for channel in list(self._map.values()):
            channel.close()

    def start(self) -> threading.Thread:
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
