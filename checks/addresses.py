"""Server addresses as the config may give them: a host name, an IPv4 or an IPv6 literal."""

from __future__ import annotations

import ipaddress
import re

# One DNS label (RFC 1123): letters, digits and inner hyphens, 1 to 63 characters.
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_HOST_PORT = re.compile(r"[^:]+:[0-9]+")
NOT_AN_ADDRESS = "an address is a host name, an IPv4 or an IPv6 address"


def check_address(value: str) -> str:
    """The address to connect to (an IPv6 literal without its brackets), or a ValueError whose
    message says why not and never repeats the value: a user:password@ must not be echoed."""
    if not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError(f"{NOT_AN_ADDRESS}, without spaces or control characters")
    if "@" in value:
        raise ValueError(
            "an address cannot carry a user name or password; put them in a credential profile"
        )
    if any(c in value for c in "/\\?#"):
        raise ValueError(f"{NOT_AN_ADDRESS}, without a scheme or path (no http://, no /wsman)")
    unbracketed = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if ":" in unbracketed:
        return _ipv6(unbracketed, bracketed=unbracketed != value)
    if unbracketed != value or not _is_host(value):
        raise ValueError(NOT_AN_ADDRESS)
    return value


def _ipv6(value: str, *, bracketed: bool) -> str:
    if "%" in value:
        # A zone (fe80::1%eth0) needs escaping in a URL, which pywinrm does not do.
        raise ValueError("an IPv6 address with a zone (%…) is not supported")
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        if not bracketed and _HOST_PORT.fullmatch(value):
            raise ValueError("an address cannot carry a port; set it with port:") from None
        raise ValueError(NOT_AN_ADDRESS) from None
    return value


def _is_host(value: str) -> bool:
    """An IPv4 address in dotted decimal, or a host name of RFC 1123 labels (a trailing dot
    allowed); a numeric last label is neither (10.1 would reach 10.0.0.1)."""
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        pass
    else:
        return True
    name = value.removesuffix(".")
    labels = name.split(".")
    return (
        0 < len(name) <= 253
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )
