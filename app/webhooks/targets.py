"""Where webhooks may go: https only, and never to private, loopback or link-local addresses.

Checked when an endpoint is saved and again at every attempt: a name that resolved to a public
address yesterday may resolve to 127.0.0.1 today (DNS rebinding). The attempt then connects to
the very address that was checked (the name is kept for TLS: SNI and certificate), so nothing
resolves the name a second time between the check and the connection.
WEBHOOK_ALLOW_PRIVATE_TARGETS (development) lifts both rules.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

MAX_URL_LENGTH = 2000


class UnsafeTarget(Exception):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Target:
    url: httpx.URL  # what to connect to (the checked address when pinned)
    host: str  # the name in the endpoint's URL
    pinned: bool  # True: `url` holds the resolved address; send Host and SNI as `host`


def parse(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL if its form is acceptable (scheme, host, no credentials); UnsafeTarget otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"url must be at most {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise UnsafeTarget("url must not contain spaces or control characters.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise UnsafeTarget("url is not a valid URL.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes:
        raise UnsafeTarget("url must start with https://.")
    if not parsed.host:
        raise UnsafeTarget("url must name a host.")
    if parsed.userinfo:
        raise UnsafeTarget("url must not hold a user name or password.")
    if parsed.fragment:
        raise UnsafeTarget("url must not have a #fragment.")
    return parsed


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for private, loopback, link-local, shared (100.64/10), reserved,
    # documentation and unspecified ranges; multicast is global but no webhook target.
    return ip.is_global and not ip.is_multicast


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Checks `url` now and returns where to connect; UnsafeTarget when it may not be used."""
    parsed = parse(url, allow_private=allow_private)
    if allow_private:
        return Target(url=parsed, host=parsed.host, pinned=False)
    port = parsed.port or 443
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"{parsed.host} does not resolve ({exc}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeTarget(f"{parsed.host} does not resolve.")
    blocked = [a for a in addresses if not is_public(a)]
    if blocked:
        # Any private answer refuses the name: a client picking among answers must not reach one.
        raise UnsafeTarget(f"{parsed.host} resolves to a private, loopback or link-local address ({blocked[0]}).")
    address = addresses[0].split("%", 1)[0]
    return Target(url=parsed.copy_with(host=address), host=parsed.host, pinned=True)
