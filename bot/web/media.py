"""Fetching an Open311 client's ``media_url`` without letting it reach the server's own network.

The address a client names is fetched by this server, so a client could make it read what only
the server can reach (a router's page, a cloud's metadata at 169.254.169.254, a local admin
port). Every hop is checked: the scheme, a host written as an address, every address its name
resolves to (the connection then uses exactly those), and each redirect's target the same way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")
MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)
TIMEOUT_S = 10.0  # for the whole fetch, redirects included


class MediaRefusedError(Exception):
    """The address is not fetched (the message names why, for the API client)."""


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local, ...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    inside = (
        address.is_loopback or address.is_private or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
    )  # fmt: skip
    return address.is_global and not inside


def check_address(text: str, allowed: Iterable[Network]) -> None:
    """Refuse an address that is not public, unless a setting allows its network."""
    address = ipaddress.ip_address(text.split("%", 1)[0])  # a zone ("%eth0") is not the address
    if is_public(address) or any(address in network for network in allowed):
        return
    raise MediaRefusedError("media_url: an internal address is not fetched")


class GuardedResolver(AbstractResolver):
    """A resolver that refuses a name when any of its addresses is not public.

    aiohttp connects to the addresses this returns, so a name cannot be checked as public and
    then connected to elsewhere (no second lookup).
    """

    def __init__(self, allowed: tuple[Network, ...], inner: AbstractResolver | None = None):
        self._allowed = allowed
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The name's addresses, when every one of them may be fetched."""
        found = await self._inner.resolve(host, port, family)
        for entry in found:
            check_address(entry["host"], self._allowed)
        return found

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()


def checked_url(raw: str | URL, allowed: tuple[Network, ...]) -> URL:
    """The URL when its scheme is http(s) and its host, if written as an address, is allowed."""
    url = raw if isinstance(raw, URL) else URL(raw)
    if url.scheme not in SCHEMES or not url.host:
        raise MediaRefusedError("media_url: an http or https address")
    try:
        ipaddress.ip_address(url.host.split("%", 1)[0])
    except ValueError:
        return url  # a name: the resolver checks its addresses
    check_address(url.host, allowed)  # aiohttp does not resolve a written address
    return url


async def fetch(raw: str, allowed: tuple[Network, ...], limit: int) -> bytes:
    """The body at ``raw``: following up to three redirects (each checked), at most ``limit``
    bytes, the whole fetch within ``TIMEOUT_S``. Raises ``MediaRefusedError`` (with the
    reason) or aiohttp's errors and ``TimeoutError``."""
    url = checked_url(raw, allowed)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allowed), use_dns_cache=False)
    async with asyncio.timeout(TIMEOUT_S), aiohttp.ClientSession(connector=connector) as session:
        for _ in range(MAX_REDIRECTS + 1):
            async with session.get(url, allow_redirects=False) as answer:
                location = answer.headers.get("Location")
                if answer.status in REDIRECTS and location:
                    url = checked_url(url.join(URL(location)), allowed)
                    continue
                if answer.status != 200:
                    raise MediaRefusedError(f"media_url: the server answered {answer.status}")
                return await _body(answer, limit)
    raise MediaRefusedError("media_url: too many redirects")


async def _body(answer: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, refused as soon as it is known to be larger than ``limit``."""
    too_large = MediaRefusedError(f"media_url: larger than {limit // 2**20} MB")
    if answer.content_length is not None and answer.content_length > limit:
        raise too_large
    body = bytearray()
    async for chunk in answer.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)
