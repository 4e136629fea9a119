"""The inventory: which servers exist, how to reach them, and with which credential profile."""

from __future__ import annotations

import difflib
import ipaddress
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Scheme = Literal["http", "https"]
Transport = Literal["ntlm", "kerberos", "credssp", "basic", "certificate"]
DEFAULT_PORTS: dict[str, int] = {"http": 5985, "https": 5986}
# A server name as people type it: a host name or FQDN, nothing a shell could misread.
SERVER_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}"
ServerName = Annotated[str, Field(pattern=f"^{SERVER_NAME_PATTERN}$")]
TimeOfDay = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A credential profile's name: it is echoed in errors and the doctor's advice, so plain.
PROFILE_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
ProfileName = Annotated[str, Field(pattern=f"^{PROFILE_NAME_PATTERN}$")]
# A portable environment variable name (POSIX): the doctor names it in its advice.
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
# An hour: a WS-Management request, a connection or one server's whole check that takes longer
# is stuck, and an infinite or huge value would never fire (or overflow the clock).
MAX_TIMEOUT_S = 3600.0
Seconds = Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S)]
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux
# What one check may receive from a host, all replies together: a 60-volume snapshot is about
# 30 KB, so 4 MiB is generous, and 256 MiB is the most a fleet of checks in parallel should hold.
DEFAULT_EXCHANGE_BYTES = 4 * 1024 * 1024
ExchangeBytes = Annotated[int, Field(ge=64 * 1024, le=256 * 1024 * 1024)]


def _plain_path(value: Path) -> Path:
    # A NUL byte would only fail when the file is opened, in the middle of a check.
    if "\x00" in str(value) or len(str(value)) > MAX_PATH_CHARS:
        raise ValueError(f"a path is at most {MAX_PATH_CHARS} characters, without NUL bytes")
    return value


FilePath = Annotated[Path, AfterValidator(_plain_path)]


class _Strict(BaseModel):
    # hide_input_in_errors: a mistyped secret must not be echoed back in an error; allow_inf_nan:
    # a timeout of .inf never fires.
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )


class ServerOptions(_Strict):
    """Settings a server entry may set; anything left out comes from `defaults:`."""

    port: int | None = Field(default=None, ge=1, le=65535)
    scheme: Scheme | None = None
    transport: Transport | None = None
    credential: ProfileName | None = None
    timezone: str | None = None
    ca_bundle: FilePath | None = None
    verify_tls: bool | None = None
    connect_timeout_s: Seconds | None = None
    operation_timeout_s: Seconds | None = None
    read_timeout_s: Seconds | None = None
    deadline_s: Seconds | None = None
    max_exchange_bytes: ExchangeBytes | None = None
    lead_time_min: int | None = Field(default=None, ge=1, le=24 * 60)
    # The backup window in the server's time zone; without times, the server's own WSB
    # schedule (its next run) is used.
    backup_times: list[TimeOfDay] | None = None
    backup_days: list[Weekday] | None = Field(default=None, min_length=1)

    @field_validator("backup_times", mode="before")
    @classmethod
    def _quoted_times(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 21:00 as the base-60 number 1260.
        if isinstance(value, list) and any(isinstance(v, int) for v in value):
            raise ValueError(
                'write each time in quotes, like "21:00" (unquoted, YAML reads a time as a number)'
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                # Without the value: whatever was typed here may not be a zone at all.
                raise ValueError("this is not a known IANA time zone, such as Asia/Tokyo") from None
        return value


class ServerEntry(ServerOptions):
    """One server as the config file lists it."""

    name: ServerName
    address: str = Field(min_length=1)

    @field_validator("address")
    @classmethod
    def _host_only(cls, value: str) -> str:
        return check_address(value)


class Server(_Strict):
    """A server with every setting resolved."""

    name: str
    address: str
    port: int
    scheme: Scheme
    transport: Transport
    credential: str | None
    timezone: str | None
    ca_bundle: Path | None
    verify_tls: bool
    connect_timeout_s: float
    operation_timeout_s: float
    read_timeout_s: float
    deadline_s: float
    max_exchange_bytes: int
    lead_time_min: int
    backup_times: tuple[str, ...] = ()
    backup_days: tuple[Weekday, ...] = WEEKDAYS

    @property
    def endpoint(self) -> str:
        """The WS-Management URL; pywinrm always posts to /wsman."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}/wsman"


class CredentialProfile(_Strict):
    """Where a credential's secrets come from; the secrets themselves never sit in the file."""

    username: str | None = Field(default=None, min_length=1, max_length=256)
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    password_file: FilePath | None = None
    cert_pem: FilePath | None = None
    cert_key_pem: FilePath | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: object) -> object:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "passwords never go in the config file: use password_env or password_file"
            )
        return data

    @field_validator("username")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("a user name cannot contain control characters")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.username is None) == (self.username_env is None):
            raise ValueError("set exactly one of username and username_env")
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("set at most one of password_env and password_file")
        return self


BUILTIN_DEFAULTS = ServerOptions(
    scheme="http",
    transport="ntlm",
    verify_tls=True,
    connect_timeout_s=10,
    operation_timeout_s=60,
    read_timeout_s=70,
    deadline_s=180,
    max_exchange_bytes=DEFAULT_EXCHANGE_BYTES,
    lead_time_min=60,
)


class Inventory(_Strict):
    """The `defaults`, `credentials` and `servers` sections of the config."""

    defaults: ServerOptions = ServerOptions()
    credentials: dict[ProfileName, CredentialProfile] = Field(default_factory=dict)
    servers: list[ServerEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: set[str] = set()
        for n, entry in enumerate(self.servers):
            if entry.name.casefold() in seen:
                raise ValueError(f"servers[{n}]: the name {entry.name!r} is listed twice")
            seen.add(entry.name.casefold())
        for server in self.resolved():
            if server.credential is not None and server.credential not in self.credentials:
                raise ValueError(
                    f"server {server.name!r} uses the credential {server.credential!r}, "
                    "which is not defined under credentials"
                )
            if server.read_timeout_s <= server.operation_timeout_s:
                raise ValueError(
                    f"server {server.name!r}: read_timeout_s must be longer than "
                    "operation_timeout_s (pywinrm requires it)"
                )
        return self

    def resolved(self) -> list[Server]:
        """Every server with defaults applied: its own value, else `defaults:`, else built-in."""
        return list(self._resolved)

    @cached_property
    def _resolved(self) -> tuple[Server, ...]:
        # The inventory is frozen, so this is worked out once, not on every slash command.
        servers = []
        for entry in self.servers:
            merged: dict[str, object] = {}
            for layer in (BUILTIN_DEFAULTS, self.defaults, entry):
                merged.update(layer.model_dump(exclude_none=True))
            scheme = str(merged["scheme"])
            merged.setdefault("port", DEFAULT_PORTS[scheme])
            merged.setdefault("credential", None)
            merged.setdefault("timezone", None)
            merged.setdefault("ca_bundle", None)
            servers.append(Server.model_validate(merged))
        return tuple(servers)

    def find(self, name: str) -> Server | None:
        """The server with this name: case-insensitive, and a short name matches its FQDN."""
        wanted = name.casefold()
        servers = self.resolved()
        for server in servers:
            if server.name.casefold() == wanted:
                return server
        short = [s for s in servers if _short(s.name) == _short(wanted)]
        if len(short) == 1 and ("." not in wanted or "." not in short[0].name):
            return short[0]
        return None

    def suggest(self, name: str) -> str | None:
        """The listed name closest to a mistyped one, if any is close."""
        names = [s.name for s in self.servers]
        lowered = {n.casefold(): n for n in names}
        close = difflib.get_close_matches(name.casefold(), list(lowered), n=1, cutoff=0.6)
        return lowered[close[0]] if close else None


def _short(name: str) -> str:
    return name.casefold().split(".", 1)[0]


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
