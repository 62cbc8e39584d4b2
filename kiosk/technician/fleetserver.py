"""`kiosk fleet ... --server URL`: the boards the province server hears from (SPEC 7.3's
/api/v1/boards), for boards whose /health cannot be reached (3G/4G, a commune's router).

The server is ours but its answer still crosses a network: it is read bounded, within a
deadline, and only its documented shape is used."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

from kiosk import __version__
from kiosk.core.errors import UsageError
from kiosk.core.httpbody import IDENTITY, BodyRefused, read_body
from kiosk.technician.statuscmd import health_shaped

MAX_BYTES = 256 * 1024 * 1024  # 10,000 boards with their health documents: about 30 MB
MAX_TOKEN = 200


class ServerError(Exception):
    """The province server could not be asked (exit 1, with this message)."""


def read_api_token(path: Path) -> str:
    try:
        token = path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--api-token-file {path}: cannot be read ({exc})") from None
    if not token or len(token) > MAX_TOKEN or any(c.isspace() for c in token):
        raise UsageError(f"--api-token-file {path}: does not hold one API token")
    return token


def heard_boards(server: str, token: str, timeout: float) -> dict[str, dict[str, Any]]:
    """device_id -> the last health document of each board the server counts online."""
    url = server.rstrip("/") + "/api/v1/boards?health=1"
    deadline_s = max(30.0, timeout * 6)
    try:
        with requests.get(
            url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"kiosk-fleet/{__version__}",
                **IDENTITY,
            },
            timeout=(timeout, deadline_s),
            stream=True,
            allow_redirects=False,
        ) as answer:
            if answer.status_code in (401, 403):
                raise UsageError(
                    f"{server} refused the API token (HTTP {answer.status_code}): make one "
                    "with `kiosk province api-token NAME` for a technician or an admin"
                )
            if answer.status_code != 200:
                raise ServerError(f"{server} answered HTTP {answer.status_code}")
            doc = json.loads(read_body(answer, MAX_BYTES, time.monotonic() + deadline_s))
    except requests.RequestException as exc:
        raise ServerError(f"{server} cannot be reached: {type(exc).__name__}") from None
    except (BodyRefused, ValueError, RecursionError) as exc:
        raise ServerError(f"{server} did not answer with the board list: {exc}") from None
    boards = doc.get("boards") if isinstance(doc, dict) else None
    if not isinstance(boards, list):
        raise ServerError(f"{server} did not answer with the board list")
    heard = {}
    for b in boards:
        if not isinstance(b, dict) or b.get("online") is not True:
            continue
        health = b.get("health")
        device_id = b.get("device_id")
        if isinstance(device_id, str) and health_shaped(health):
            heard[device_id] = health
    return heard
