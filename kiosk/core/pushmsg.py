"""The push message of SPEC 1.7, which the province sends and the board reads: a retained
`{"channel": C, "sequence": N}` on `bangtin/channels/<C>`. Here, in the core, because both
sides speak it; the MQTT clients are kiosk.board.push and kiosk.province.notify."""

from __future__ import annotations

import json

TOPIC = "bangtin/channels/{channel}"
MAX_PACKET = 4096  # a push message is a few dozen bytes


def topic(channel: str) -> str:
    return TOPIC.format(channel=channel)


def message(channel: str, sequence: int) -> str:
    return json.dumps({"channel": channel, "sequence": sequence})


def sequence_of(payload: bytes, channel: str) -> int | None:
    """N of a well-formed `{"channel": channel, "sequence": N}`, else None: the payload is
    unsigned, anyone's who can reach the broker."""
    if len(payload) > MAX_PACKET:
        return None
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("channel") != channel:
        return None
    n = doc.get("sequence")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n < 2**63:
        return None
    return n
