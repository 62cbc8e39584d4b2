"""/metrics' part of software updates: the rollout in force, whether it halted (and whether
by itself), and the boards per version, for an alert rule on a halted rollout."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from kiosk.province.updates.rollouts import SYSTEM, boards_by_version, current
from kiosk.province.updates.rollouts import rolled_back as rolled_back_boards


class RolloutCollector:
    """Two grouped counts of the boards' table; never the page's pass over every board."""

    def collect(self):
        row = current()
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
        version = (row.version or row.halted_version) if row is not None else ""
        if version:
            rolled_back.add_metric([version], rolled_back_boards(version))
        versions = GaugeMetricFamily(
            "kiosk_province_boards_by_version",
            "Boards of the inventory by the software version their last heartbeat reported "
            '("" when none)',
            labels=["version"],
        )
        for running, n in sorted(boards_by_version().items()):
            versions.add_metric([running], n)
        yield from (rollout, halted, rolled_back, versions)
