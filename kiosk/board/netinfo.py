"""The board's IPv4 addresses, for the diagnostic overlay: read from the kernel (ioctl),
with no traffic and no tools."""

from __future__ import annotations

import fcntl
import socket
import struct

SIOCGIFADDR = 0x8915


def ipv4_addresses() -> list[tuple[str, str]]:
    """(interface, address) of each interface with an IPv4 address, loopback left out."""
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            if name == "lo":
                continue
            try:
                packed = fcntl.ioctl(
                    sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15])
                )
            except OSError:  # no IPv4 address on this interface
                continue
            found.append((name, socket.inet_ntoa(packed[20:24])))
    return found
