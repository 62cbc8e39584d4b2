"""The provincial source system, as the sync sees it: one small interface and its HTTP adapter.

`Source` is all the sync needs: a channel's manifest (conditional on an ETag) and an asset
by its SHA-256. `HttpSource` speaks SPEC 1.1 and 1.5 to any static web server; another
provincial system's API becomes another adapter with the same two methods.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import requests
import urllib3

from kiosk import __version__
from kiosk.core.httpbody import IDENTITY, BodyRefused, TooSlow, chunks

MAX_MANIFEST_BYTES = 2 * 1024 * 1024  # SPEC 1.5
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0  # the longest silence tolerated inside one response
MANIFEST_DEADLINE_S = 60.0
ASSET_MIN_RATE = 16 * 1024  # bytes/s a download may not fall below, on average
MAX_REDIRECTS = 5
MAX_DATE_CHARS = 64  # an IMF-fixdate is 29
MAX_ETAG_CHARS = 200  # nginx's are under 30; S3's and CDNs' under 100


class SourceError(Exception):
    """A fetch that failed; `code` is the problem code of SPEC 3.3."""

    code = "sync_failing"


class TransportError(SourceError):
    """The source could not be reached or answered badly: try again later, keep what we have."""


class NotFound(TransportError):
    """The source has no such document (404): for a rollout, no release is rolled out."""


class ManifestTooLarge(SourceError):
    code = "manifest_invalid"


class AssetRejected(SourceError):
    """The source's bytes cannot be this asset (missing, too long): the item waits."""

    code = "asset_invalid"


@dataclass(frozen=True)
class ManifestFetch:
    body: bytes | None  # None: unchanged since the ETag we sent (304)
    etag: str | None
    server_time: datetime | None  # the response's Date header


class Source(Protocol):
    def fetch_manifest(self, channel: str, etag: str | None) -> ManifestFetch: ...

    def fetch_asset(self, sha256: str, size: int, partial: Path) -> datetime | None:
        """Complete the partial file (resuming it when the source allows) up to `size` bytes.
        The caller checks the hash; returns the response's Date, if any."""
        ...


def usable_etag(value: str | None) -> str | None:
    """An ETag worth storing and sending back: short printable ASCII. A longer one (16 KB
    once) would be stored for good and sent with every poll, and a server that refuses long
    header lines would then never update the board; it is not stored, and polls go
    unconditional."""
    if value is None or len(value) > MAX_ETAG_CHARS:
        return None
    if not value.strip() or not all(" " <= c <= "~" for c in value):
        return None
    return value


def http_date(value: str | None) -> datetime | None:
    """A Date header, or None when it is missing, too long or not a date (the clock then
    judges whether it is plausible)."""
    if not value or len(value) > MAX_DATE_CHARS:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class HttpSource:
    """SPEC 1.1 over HTTP(S): `S/channels/<channel>/manifest.json` and `S/assets/<sha256>`."""

    def __init__(
        self,
        url: str,
        device_id: str,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        read_timeout: float = READ_TIMEOUT_S,
        manifest_deadline: float = MANIFEST_DEADLINE_S,
    ) -> None:
        self.url = url.rstrip("/")
        self.manifest_deadline = manifest_deadline
        self.timeouts = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.max_redirects = MAX_REDIRECTS
        self.session.headers["User-Agent"] = f"kiosk/{__version__} ({device_id})"
        self.session.trust_env = False  # no proxy or netrc surprises on an appliance

    def close(self) -> None:
        self.session.close()

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        try:
            response = self.session.get(url, headers=headers, stream=True, timeout=self.timeouts)
        except requests.TooManyRedirects:
            raise TransportError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
        except requests.RequestException as exc:
            raise TransportError(f"{url}: {_reason(exc, self.timeouts)}") from None
        return response

    def fetch_manifest(self, channel: str, etag: str | None) -> ManifestFetch:
        return self.fetch_signed(f"channels/{channel}/manifest.json", etag)

    def fetch_signed(self, path: str, etag: str | None) -> ManifestFetch:
        """A signed document of the site (a manifest, the rollout, a release), at most 2 MiB;
        its signature is the caller's to check."""
        url = f"{self.url}/{path}"
        headers = dict(IDENTITY)
        response = self._get(url, headers | ({"If-None-Match": etag} if etag else {}))
        if etag and 400 <= response.status_code < 500:
            # Perhaps our own stored ETag is what it refuses (a header too long for it):
            # ask once more without it, and forget it.
            response.close()
            etag = None
            response = self._get(url, headers)
        with response:
            date = http_date(response.headers.get("Date"))
            if response.status_code == 304 and etag:
                return ManifestFetch(None, etag, date)
            if response.status_code == 404:
                raise NotFound(f"{url}: the source answered HTTP 404")
            if response.status_code != 200:
                raise TransportError(f"{url}: the source answered HTTP {response.status_code}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_MANIFEST_BYTES:
                raise ManifestTooLarge(f"{url}: {int(length)} bytes; at most 2 MiB are allowed")
            body = bytearray()
            deadline = time.monotonic() + self.manifest_deadline
            for chunk in _chunks(response, url, deadline, self.timeouts):
                body += chunk
                if len(body) > MAX_MANIFEST_BYTES:
                    raise ManifestTooLarge(f"{url}: more than 2 MiB; rejected")
            return ManifestFetch(bytes(body), usable_etag(response.headers.get("ETag")), date)

    def fetch_asset(self, sha256: str, size: int, partial: Path) -> datetime | None:
        url = f"{self.url}/assets/{sha256}"
        have = partial.stat().st_size if partial.exists() else 0
        if have >= size:
            return None
        headers = dict(IDENTITY)
        if have:
            headers["Range"] = f"bytes={have}-"
        response = self._get(url, headers)
        with response:
            if response.status_code == 416 and have:  # our partial is no use: start again
                partial.unlink()
                return self.fetch_asset(sha256, size, partial)
            if response.status_code == 404:
                raise AssetRejected(f"{url}: the source does not have this asset (404)")
            resumed = response.status_code == 206 and _range_start(response) == have
            if response.status_code != 200 and not resumed:
                raise TransportError(f"{url}: the source answered HTTP {response.status_code}")
            deadline = time.monotonic() + 60 + size / ASSET_MIN_RATE
            with open(partial, "ab" if resumed else "wb") as out:
                try:
                    start = have if resumed else 0
                    for chunk in _chunks(response, url, deadline, self.timeouts):
                        start += len(chunk)
                        if start > size:
                            raise AssetRejected(
                                f"{url}: the source sent more than the manifest's {size} bytes"
                            )
                        out.write(chunk)
                finally:
                    out.flush()
                    os.fsync(out.fileno())
            return http_date(response.headers.get("Date"))


def _chunks(
    response: requests.Response, url: str, deadline: float, timeouts: tuple[float, float]
) -> Iterator[bytes]:
    """The body as the socket gives it (so the wall-clock deadline is looked at even when a
    server trickles one byte at a time), as sent (we ask for identity)."""
    try:
        yield from chunks(response, deadline)
    except BodyRefused as exc:
        if exc.__cause__ is not None:
            raise TransportError(f"{url}: {_reason(exc.__cause__, timeouts)}") from None
        if isinstance(exc, TooSlow):
            raise TransportError(f"{url}: too slow; gave up (the download resumes later)") from None
        raise TransportError(f"{url}: {exc}") from None


def _range_start(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Range", "")  # "bytes 100-199/200"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _reason(exc: Exception, timeouts: tuple[float, float]) -> str:
    """A one-line reason for a technician, without the stack of wrapped exceptions."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeouts[0]:g} s"
    silent = requests.ReadTimeout | TimeoutError | urllib3.exceptions.TimeoutError
    if isinstance(exc, silent) or "timed out" in str(exc):
        return f"the source stopped answering for {timeouts[1]:g} s"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed or was reset"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | urllib3.exceptions.ProtocolError):
        return "the connection broke off in the middle of a response"
    return type(exc).__name__
