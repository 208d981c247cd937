"""The guard against server-side request forgery: only public internet addresses are fetched.

The check sits in httpx's connection step itself (``guarded_transport``): the host is resolved,
every address is checked against an explicit list of networks that are not the public internet,
and the connection goes to a checked address, so a second DNS answer cannot differ. Every
redirect hop connects through it again.
"""

from __future__ import annotations

import ipaddress
import socket

import httpcore
import httpx


class Refused(Exception):
    """Raised inside the connection step; turned into a FetchError by ``Fetcher``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Addresses that are not on the public internet, named here rather than taken from ``ipaddress``'s
# ``is_global``/``is_private`` (whose tables changed between Python 3.11 patch releases). From the
# IANA special-purpose registries; tests/test_fetch.py checks literal addresses against them.
_NOT_PUBLIC: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "broadcast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible"),
    ("64:ff9b:1::/48", "local NAT64"),
    ("100::/64", "discard"),
    ("2001::/23", "IETF protocol"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fc00::/7", "unique-local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_NETWORKS = tuple((ipaddress.ip_network(net), kind) for net, kind in _NOT_PUBLIC)
_6TO4 = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_problem(ip: str) -> str:
    """Why connecting to ``ip`` would reach something not on the public internet, or ``""``.

    IPv6 forms that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, 6to4 ``2002:AABB:CCDD::``,
    NAT64 ``64:ff9b::a.b.c.d``) are judged by that address.
    """
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address):
        inner = addr.ipv4_mapped or addr.sixtofour
        if inner is None and addr in _NAT64:
            inner = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if inner is not None:
            problem = address_problem(str(inner))
            return f"{problem} (inside {addr})" if problem else ""
    for network, kind in _NETWORKS:
        if addr.version == network.version and addr in network:
            return f"{kind} address {addr}"
    return ""


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's connection step with the address check: resolve, refuse non-public addresses, connect to a checked one."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options=None
    ):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise Refused(f"cannot resolve host {host!r} ({exc.strerror})") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        problems = {ip: address_problem(ip) for ip in addresses}
        allowed = [ip for ip in addresses if self.allow_private or not problems[ip]]
        if not allowed:
            reasons = ", ".join(problems[ip] for ip in addresses)
            raise Refused(f"refused: {host} resolves to a {reasons} (set ALLOW_PRIVATE_URLS=true to allow)")
        error: Exception | None = None
        for ip in allowed:  # connect to the checked address itself: no second lookup to race
            try:
                return self._inner.connect_tcp(ip, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise Refused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_transport(allow_private: bool, workers: int) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=max(4, workers * 2), max_keepalive_connections=workers))
    # httpcore takes a network backend; httpx does not pass one through, so it is set on its pool.
    # tests/test_fetch.py checks that a loopback address is refused, so an upgrade that breaks this fails loudly.
    transport._pool._network_backend = _GuardedBackend(allow_private)
    return transport
