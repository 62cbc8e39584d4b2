"""Plays delivered as a board delivers them: a heartbeat through the province server's own
parse and ingest (in process, on the test's Django), so the daily sums are made as in
production."""

from __future__ import annotations

import json
from datetime import datetime


def deliver_plays(device_id: str, plays: list[tuple[str, str, datetime, float]],
                  now: datetime) -> None:  # fmt: skip
    """One heartbeat carrying these plays: (channel, item, started_at, duration_s)."""
    from kiosk.province.fleet.heartbeatdoc import parse_heartbeat
    from kiosk.province.fleet.ingest import store_heartbeat

    doc = {
        "device_id": device_id,
        "sent_at": now.isoformat(),
        "health": {"status": "ok", "problems": []},
        "plays": [{"channel": channel, "item": item, "started_at": at.isoformat(),
                   "duration_s": seconds} for channel, item, at, seconds in plays],
    }  # fmt: skip
    assert store_heartbeat(device_id, parse_heartbeat(json.dumps(doc).encode(), device_id),
                           now) == []  # fmt: skip
