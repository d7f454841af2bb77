"""The client's address, one function for the access log, the lockout (axes) and sessions.

Anyone can send `X-Forwarded-For`; only what our own proxies wrote can be believed. So:

1. A request whose `REMOTE_ADDR` is not one of `TRUSTED_PROXIES` came straight from the
   client: its address is `REMOTE_ADDR` and the header is ignored.
2. Otherwise the hops are `X-Forwarded-For` followed by `REMOTE_ADDR` (each proxy appends the
   address it received the request from). Walking from the right, the trusted proxies are
   skipped: the first hop that is not one of them is the client. Hops further left were
   written by that client and prove nothing.
3. django-ipware parses the header (ports, brackets, IPv4-mapped IPv6, RFC 7239 forms) and
   picks the hop behind that many proxies (`proxy_count`, strict); a header it cannot parse
   whole is not believed, and the address is `REMOTE_ADDR`.

`TRUSTED_PROXIES` lists addresses or networks (10.0.0.5, 10.0.0.0/24): any hop inside them
counts as ours, however many layers of proxies there are.
"""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

from django.conf import settings
from ipware import get_client_ip
from python_ipware.modern.parsers import split_proxy_chain

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def client_ip(request, credentials=None) -> str:
    """The client's address (see the module docstring); "" when there is none at all.

    `credentials` is accepted because axes passes it (AXES_CLIENT_IP_CALLABLE)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = _networks(settings.TRUSTED_PROXIES)
    forwarded = request.META.get(FORWARDED_FOR, "") or ""
    if not forwarded.strip() or not _within(remote, proxies):
        return remote
    hops = [*forwarded.split(","), remote]
    client = 0
    for index in range(len(hops) - 1, -1, -1):
        parsed = split_proxy_chain(hops[index].strip(), strict=True)
        if not parsed or len(parsed) != 1:
            return remote  # a hop our side wrote, unreadable: believe only REMOTE_ADDR
        if not _within(str(parsed[0]), proxies):
            client = index
            break
    behind = len(hops) - 1 - client
    found, _routable = get_client_ip(
        SimpleNamespace(META={FORWARDED_FOR: ",".join(hops[client:])}),
        proxy_count=behind,
        request_header_order=[FORWARDED_FOR],
        strict=True,
    )
    return found or remote


def _networks(entries) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def _within(address: str, networks) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    return any(parsed.version == net.version and parsed in net for net in networks)
