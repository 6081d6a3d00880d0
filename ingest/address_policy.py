"""Which addresses a manifest download may reach: public ones, unless a setting allows a name or a range.

A manifest URL (or a redirect) must not make this server fetch its own loopback,
the organisation's private network or a cloud metadata address. The host is resolved
here, every address it resolves to is checked (odd spellings such as ``0x7f000001`` or
``2130706433`` resolve to 127.0.0.1; IPv4-mapped IPv6 is unwrapped), and the download
then connects to the checked address, so a second, different DNS answer cannot slip in.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressRefused(Exception):
    """A URL this server must not fetch; the message is French and says what to change."""


class AddressUnresolved(Exception):
    """The host name did not resolve (no network, unknown name)."""


@dataclass(frozen=True)
class Target:
    """Where to connect for a checked URL: ``address`` is None when a listed host name was allowed as is."""

    host: str
    address: IPAddress | None


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, reserved, multicast)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class AddressPolicy:
    """Public addresses only, plus the host names and CIDR ranges listed in ``allowed`` (an intranet, tests)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowed:
            entry = entry.strip().lower()
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if entry:
                    self.names.add(entry.rstrip("."))

    def allows(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return is_public(address) or any(address in network for network in self.networks)

    def check(self, url: str) -> Target:
        """The checked target of ``url``; raises :class:`AddressRefused` or :class:`AddressUnresolved`."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise AddressRefused(f"seules les adresses http:// et https:// sont téléchargées : {url}")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise AddressRefused(f"adresse sans nom d'hôte : {url}")
        if host in self.names:
            return Target(host, None)
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, ValueError) as exc:
            raise AddressUnresolved(host) from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        refused = [a for a in addresses if not self.allows(a)]
        if refused or not addresses:
            shown = refused[0] if refused else "aucune"
            raise AddressRefused(
                f"adresse non publique refusée ({host} → {shown}) : {url} ; pour un serveur interne, ajoutez son nom "
                "ou sa plage d'adresses à ingest.download_allowed (ASSISTANT_INGEST__DOWNLOAD_ALLOWED)"
            )
        return Target(host, addresses[0])
