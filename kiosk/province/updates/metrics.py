"""/metrics' part of software updates: the rollout in force, whether it halted (and whether
by itself), and the boards per version, for an alert rule on a halted rollout."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from kiosk.province.updates.rollouts import SYSTEM, status


class RolloutCollector:
    def collect(self):
        state = status()
        row = state.rollout
        rollout = GaugeMetricFamily(
            "kiosk_province_rollout_percent",
            "The share of the fleet the rollout in force gives its version (canaries aside)",
            labels=["version"],
        )
        halted = GaugeMetricFamily(
            "kiosk_province_rollout_halted",
            "1 when the last rollout decision halted a version; by=auto when it halted itself "
            "(halt_after_failures boards rolled back)",
            labels=["version", "by"],
        )
        rolled_back = GaugeMetricFamily(
            "kiosk_province_rollout_rolled_back",
            "Boards that rolled back from the version of the rollout in force (or halted)",
            labels=["version"],
        )
        if row is not None and row.version:
            rollout.add_metric([row.version], row.percent)
        if row is not None and not row.version and row.halted_version:
            by = "auto" if row.decided_by == SYSTEM else "officer"
            halted.add_metric([row.halted_version, by], 1)
        if state.counts is not None and row is not None:
            rolled_back.add_metric([row.version or row.halted_version], state.counts.rolled_back)
        versions = GaugeMetricFamily(
            "kiosk_province_boards_by_version",
            "Boards of the inventory by the software version their last heartbeat reported "
            '("" when none)',
            labels=["version"],
        )
        for version, n in sorted(state.running.items()):
            versions.add_metric([version], n)
        yield from (rollout, halted, rolled_back, versions)
