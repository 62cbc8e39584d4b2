"""Reading an HTTP reply we did not sign: at most so many bytes, by a wall-clock deadline.

requests reads a whole body into memory and unpacks gzip on the way, so a 300 KB reply can
cost 600 MB, and a server sending one byte a second never trips a read timeout. Here the
body is read as the socket gives it (read1), as sent (we ask for identity and refuse any
other encoding), and the size and the deadline are looked at after every piece.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import requests
import urllib3

from kiosk.core.textrules import printable

CHUNK = 64 * 1024
IDENTITY = {"Accept-Encoding": "identity"}


class BodyRefused(Exception):
    """Too large, too slow, compressed, or the connection broke: the reply is not used."""


class TooSlow(BodyRefused):
    """The deadline passed before the body was whole."""


class TooLarge(BodyRefused):
    """The body is (or says it is) over the limit."""


def chunks(response: requests.Response, deadline: float) -> Iterator[bytes]:
    """The reply's body as the socket gives it, by `deadline` (time.monotonic()). Raises
    BodyRefused; a broken connection's own exception is its __cause__."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise BodyRefused(
            f"a {printable(encoding, 40)}-encoded body although identity was asked for"
        )
    try:
        while chunk := response.raw.read1(CHUNK, decode_content=False):
            yield chunk
            if time.monotonic() > deadline:
                raise TooSlow("too slow")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise BodyRefused(f"the connection broke off ({type(exc).__name__})") from exc


def read_body(response: requests.Response, limit: int, deadline: float) -> bytes:
    """The reply's body, at most `limit` bytes, by `deadline` (time.monotonic())."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        raise TooLarge(f"{int(length)} bytes; at most {limit} are read")
    body = bytearray()
    for chunk in chunks(response, deadline):
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"more than {limit} bytes")
    return bytes(body)
