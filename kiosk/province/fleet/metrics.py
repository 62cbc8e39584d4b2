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
        fields = ("device_id", "unit_name", "district", "last_heartbeat_at", "problems",
                  "plays_rejected", "plays_stored", "state")  # fmt: skip
        stored = 0
        rows = with_state(Board.objects.filter(in_inventory=True), self.now).values_list(*fields)
        # tuples, not models: 10,000 boards a scrape (a model each cost a third of it)
        for device_id, unit, district, last, codes, rejected_n, stored_n, state in rows:
            stored += stored_n
            labels = [device_id, unit, district]
            by_state[state] += 1
            status.add_metric([*labels, state], 1)
            if last is not None:
                age.add_metric(labels, (self.now - last).total_seconds())
                # one series per code, however often a board repeats one (valid exposition)
                for code in sorted(set(codes.split())) if state != "offline" else ():
                    problems.add_metric([*labels, code], 1)
            if rejected_n:
                rejected.add_metric(labels, rejected_n)
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
    from kiosk.province.updates.metrics import RolloutCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(now))
    registry.register(RolloutCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
