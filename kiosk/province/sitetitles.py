"""The titles of the bulletins a published site holds, read from its manifests, so the
province's pages and reports name bulletins as people do."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

from kiosk.core.model import parse_items

log = logging.getLogger(__name__)
MAX_CHANNELS = 10_000
MAX_MANIFEST = 2 * 1024 * 1024  # SPEC 1.5


def published_titles(site_dir: Path) -> dict[tuple[str, str], str]:
    """(channel, item) -> the bulletin's label, from the manifests the site holds now. The
    site is the province's own, written by kiosk publish; a file that will not read is
    skipped (and logged), never a stop."""
    titles = {}
    for path in sorted(site_dir.glob("channels/*/manifest.json"))[:MAX_CHANNELS]:
        try:
            if path.stat().st_size > MAX_MANIFEST:
                raise ValueError("larger than 2 MiB")
            envelope = json.loads(path.read_bytes())
            payload = json.loads(base64.b64decode(envelope["payload"], validate=True))
            items, _errors = parse_items(payload["items"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            log.warning("%s: titles not read: %s", path, exc)
            continue
        channel = path.parent.name
        titles |= {(channel, item.id): item.label for item in items}
    return titles
