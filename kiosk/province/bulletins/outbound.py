"""Fetching a URL an officer configured (a CAP alert, a feed) without being turned against
the server's own network (server-side request forgery, SPEC 7.4).

A feed that redirects to http://169.254.169.254/ (a cloud's metadata service), to a
router's admin page on 192.168.1.1, or to the server's own PostgreSQL on 127.0.0.1, would
make the province server fetch what only it can reach. So redirects are followed here, not
by requests: every hop's host is resolved first, and a hop is refused, before any
connection, when an address it resolves to is not a public one (loopback, private,
link-local, reserved, multicast), unless it is the configured URL's own host (a feed on the
province's own network is configured as such, by its IP or name). Each connection's peer is
checked again once it is made, before the request is sent, so a name that resolves
differently the second time (DNS rebinding) is caught too."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from kiosk.core.httpbody import IDENTITY, read_body
from kiosk.core.textrules import printable

MAX_HOPS = 5
Resolver = Callable[[str, int], list[str]]


class OutboundRefused(Exception):
    """The URL, or a hop it led to, may not be fetched; the message says why."""


def internal(address: str) -> bool:
    """Not an address of the public internet: loopback, private, link-local, reserved,
    multicast, unspecified (IPv4 inside IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused(f"{printable(host, 100)} cannot be resolved ({exc})") from None
    return sorted({str(info[4][0]) for info in infos})


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(f"{printable(url, 200)} is not an http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused(f"{printable(url, 200)} has a bad port") from None
    return parts.hostname, port


def hop_allowed(url: str, configured: str, addresses: list[str]) -> bool:
    """A public destination, or the configured URL's own host (pure: the rule itself)."""
    return not any(internal(a) for a in addresses) or (
        _host_port(url)[0] == _host_port(configured)[0]
    )


def _guarded(session: requests.Session, configured: str) -> None:
    """Every connection the session makes checks its peer's address once connected."""
    own_host = _host_port(configured)[0]

    def check(conn: HTTPConnection) -> None:
        peer = str(conn.sock.getpeername()[0])
        if internal(peer) and conn.host != own_host:
            conn.sock.close()
            raise OutboundRefused(
                f"{printable(conn.host, 100)} connected to {peer}, inside the server's own "
                "network; nothing sent"
            )

    class Checked(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            check(self)

    class CheckedTLS(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            check(self)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Checked

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = CheckedTLS

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

    for prefix in ("http://", "https://"):
        session.mount(prefix, Adapter())


def fetch(
    url: str,
    limit: int,
    deadline_s: float,
    resolver: Resolver = resolve,
    timeouts: tuple[float, float] = (10, 20),
) -> tuple[int, bytes]:
    """(status, body) of the last hop; at most `limit` bytes, within `deadline_s` in all.
    OutboundRefused for a hop the rule refuses; the body's own errors
    (kiosk.core.httpbody.BodyRefused) and requests' pass through."""
    deadline = time.monotonic() + deadline_s
    where = url
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: the addresses are ours
        _guarded(session, url)
        for _hop in range(MAX_HOPS + 1):
            host, port = _host_port(where)
            addresses = resolver(host, port)
            if not hop_allowed(where, url, addresses):
                raise OutboundRefused(
                    f"{printable(where, 200)} leads into the server's own network "
                    f"({', '.join(addresses)[:100]}); not fetched"
                )
            with session.get(where, headers=IDENTITY, timeout=timeouts, stream=True,
                             allow_redirects=False) as answer:  # fmt: skip
                if answer.is_redirect and "Location" in answer.headers:
                    where = urljoin(where, answer.headers["Location"])
                    continue
                return answer.status_code, read_body(answer, limit, deadline)
    raise OutboundRefused(f"{printable(url, 200)}: more than {MAX_HOPS} redirects")
