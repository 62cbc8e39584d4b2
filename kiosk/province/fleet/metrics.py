"""/metrics: the fleet from the database, in Prometheus's text format, so the alert rules
of provisioning/monitoring/ cover boards that only push their heartbeats."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from kiosk.province.fleet.fleetdata import STATES, with_state
from kiosk.province.fleet.models import Board
from kiosk.province.fleet.refusals import REFUSED


class FleetCollector:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def collect(self):
        by_state = dict.fromkeys(STATES, 0)
        status = GaugeMetricFamily(
            "kiosk_province_board_status",
            "1 for the board's state: its last heartbeat's status, offline or never",
            labels=["device_id", "unit_name", "district", "status"],
        )
        age = GaugeMetricFamily(
            "kiosk_province_heartbeat_age_seconds",
            "Seconds since the board's last heartbeat",
            labels=["device_id", "unit_name", "district"],
        )
        problems = GaugeMetricFamily(
            "kiosk_province_board_problems",
            "1 for each problem code the board's last heartbeat reported",
            labels=["device_id", "unit_name", "district", "code"],
        )
        rejected = CounterMetricFamily(
            "kiosk_province_plays_rejected",
            "Plays a board sent that were not stored (too far ahead or behind the server's "
            "clock, longer than an hour, or malformed: SPEC 7.4)",
            labels=["device_id", "unit_name", "district"],
        )
        fields = ("device_id", "unit_name", "district", "last_heartbeat_at", "status",
                  "problems", "plays_rejected", "plays_stored")  # fmt: skip
        stored = 0
        for b in with_state(Board.objects.filter(in_inventory=True).only(*fields), self.now):
            stored += b.plays_stored
            labels = [b.device_id, b.unit_name, b.district]
            state = b.state
            by_state[state] += 1
            status.add_metric([*labels, state], 1)
            if b.last_heartbeat_at is not None:
                age.add_metric(labels, (self.now - b.last_heartbeat_at).total_seconds())
                # one series per code, however often a board repeats one (valid exposition)
                for code in sorted(set(b.codes())) if state != "offline" else ():
                    problems.add_metric([*labels, code], 1)
            if b.plays_rejected:
                rejected.add_metric(labels, b.plays_rejected)
        boards = GaugeMetricFamily(
            "kiosk_province_boards", "Boards of the inventory by state", labels=["status"]
        )
        for state, n in by_state.items():
            boards.add_metric([state], n)
        # kept as heartbeats arrive: a scrape reads the boards, never the plays
        plays = CounterMetricFamily(
            "kiosk_province_plays", "Plays stored (each once) from the boards of the inventory"
        )
        plays.add_metric([], stored)
        refused = CounterMetricFamily(
            "kiosk_province_refused",
            "Heartbeats refused (and screenshots dropped), by reason",
            labels=["reason"],
        )
        for reason, n in REFUSED.totals().items():
            refused.add_metric([reason], n)
        yield from (boards, status, age, problems, plays, refused, rejected)


def exposition(now: datetime) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(now))
    return generate_latest(registry), CONTENT_TYPE_LATEST
