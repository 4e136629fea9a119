"""The inventory: which servers exist, how to reach them, and with which credential profile."""

from __future__ import annotations

import difflib
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from checks.addresses import NOT_AN_ADDRESS as NOT_AN_ADDRESS
from checks.addresses import check_address as check_address

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
# A snapshot file written by a daily scheduled task is at most a day old, plus two hours of
# slack for a slow run or a clock change; a month is the most a stale file could still mean.
DEFAULT_SNAPSHOT_AGE_MIN = 26 * 60
MAX_SNAPSHOT_AGE_MIN = 31 * 24 * 60


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
    max_snapshot_age_min: int | None = Field(default=None, ge=1, le=MAX_SNAPSHOT_AGE_MIN)
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
            # OSError: a name too long to be a file in the tzdata package (ENAMETOOLONG).
            except (ZoneInfoNotFoundError, ValueError, OSError):
                # Without the value: whatever was typed here may not be a zone at all.
                raise ValueError("this is not a known IANA time zone, such as Asia/Tokyo") from None
        return value


class ServerEntry(ServerOptions):
    """One server as the config file lists it."""

    name: ServerName
    # Checked over WinRM at `address`, or read from the file its own scheduled task writes.
    address: str | None = Field(default=None, min_length=1)
    snapshot_file: FilePath | None = None

    @field_validator("address")
    @classmethod
    def _host_only(cls, value: str | None) -> str | None:
        return None if value is None else check_address(value)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.address is None) == (self.snapshot_file is None):
            raise ValueError(
                "a server has either address: (checked over WinRM) or snapshot_file: (a snapshot "
                "its own scheduled task writes), exactly one of them"
            )
        return self


class Server(_Strict):
    """A server with every setting resolved."""

    name: str
    address: str | None  # None: a file server
    snapshot_file: Path | None = None
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
    max_snapshot_age_min: int
    lead_time_min: int
    backup_times: tuple[str, ...] = ()
    backup_days: tuple[Weekday, ...] = WEEKDAYS

    @property
    def reads_file(self) -> bool:
        """Whether the server is read from a snapshot file instead of checked over WinRM."""
        return self.snapshot_file is not None

    @property
    def endpoint(self) -> str:
        """The WS-Management URL; pywinrm always posts to /wsman."""
        address = self.address or ""
        host = f"[{address}]" if ":" in address else address
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
    max_snapshot_age_min=DEFAULT_SNAPSHOT_AGE_MIN,
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
            merged.setdefault("address", None)
            servers.append(Server.model_validate(merged))
        return tuple(servers)

    def find(self, name: str) -> Server | None:
        """The server with this name: case-insensitive, and a short name matches its FQDN."""
        wanted = name.casefold()
        exact = self._by_name.get(wanted)
        if exact is not None:
            return exact
        short = self._by_short_name.get(_short(wanted), ())
        if len(short) == 1 and ("." not in wanted or "." not in short[0].name):
            return short[0]
        return None

    # Indexed once: a slash command looks names up in its ack, which must not grow with the fleet.
    @cached_property
    def _by_name(self) -> dict[str, Server]:
        return {s.name.casefold(): s for s in self._resolved}

    @cached_property
    def _by_short_name(self) -> dict[str, tuple[Server, ...]]:
        index: dict[str, list[Server]] = {}
        for server in self._resolved:
            index.setdefault(_short(server.name), []).append(server)
        return {short: tuple(servers) for short, servers in index.items()}

    def suggest(self, name: str) -> str | None:
        """The listed name closest to a mistyped one, if any is close."""
        names = [s.name for s in self.servers]
        lowered = {n.casefold(): n for n in names}
        close = difflib.get_close_matches(name.casefold(), list(lowered), n=1, cutoff=0.6)
        return lowered[close[0]] if close else None


def _short(name: str) -> str:
    return name.casefold().split(".", 1)[0]
