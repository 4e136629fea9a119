"""Snapshot v1: the facts a collector gathers about one host (the input of the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from checks.json_text import DocumentError, decode, json_problem
from checks.last_backup import LastBackup
from checks.names import has_control, is_drive_letter, is_volume_id, unc_problem

SNAPSHOT_SCHEMA_VERSION = 1
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]

# A snapshot is what a host sends, so every list and string is bounded. Windows servers have a
# few dozen volumes, large storage servers some thousands; the WinRM reply is capped in bytes too.
MAX_VOLUMES = 10_000
MAX_PATH_CHARS = 512  # names, mount folders, UNC paths and ids (MAX_PATH is 260)
MAX_LABEL_CHARS = 256  # NTFS and ReFS labels hold 32; WSB names its disks longer
MAX_HOST_CHARS = 255  # a DNS name
MAX_FILESYSTEM_CHARS = 64
MAX_WARNINGS = 1_000
MAX_WARNING_CHARS = 2_000
MAX_SCHEDULE_TIMES = 1_440  # one a minute


def _shown(value: str) -> str:
    """A host value quoted for an error sentence: control characters escaped, length bounded."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "…"


def _no_control(value: str) -> str:
    if has_control(value):
        raise ValueError(f"{_shown(value)} holds a control character")
    return value


def _drive_letter(value: str) -> str:
    # The design allows an empty letter as well as null for volumes without one.
    if value and not is_drive_letter(value):
        raise ValueError(f"{_shown(value)} is not a drive letter such as 'D:'")
    return value


def _volume_id(value: str) -> str:
    if not is_volume_id(value):
        raise ValueError(f"{_shown(value)} is not a volume GUID path such as \\\\?\\Volume{{…}}\\")
    return value


def _unc_path(value: str) -> str:
    problem = unc_problem(value)
    if problem is not None:
        raise ValueError(f"{_shown(value)} {problem}")
    return value


PathText = Annotated[
    str, Field(min_length=1, max_length=MAX_PATH_CHARS), AfterValidator(_no_control)
]
VolumeId = Annotated[str, Field(max_length=MAX_PATH_CHARS), AfterValidator(_volume_id)]
# References are checked against the volume ids, which are validated themselves.
VolumeRef = Annotated[str, Field(max_length=MAX_PATH_CHARS)]
Label = Annotated[str, Field(max_length=MAX_LABEL_CHARS)]


def _at(path: str, message: str) -> PydanticCustomError:
    """An error that names its own field path, for checks that span several fields."""
    return PydanticCustomError("invalid_reference", message, {"path": path})


def _check_free(free: int, info: ValidationInfo) -> int:
    capacity = info.data.get("capacity_bytes")
    if capacity is not None and free > capacity:
        raise ValueError(f"free space ({free} bytes) exceeds capacity_bytes ({capacity} bytes)")
    return free


class _Strict(BaseModel):
    # Unknown keys are refused so that a probe and the rules can never silently disagree.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Volume(_Strict):
    """One volume, with or without a drive letter."""

    id: VolumeId = Field(description="Win32_Volume.DeviceID; the key everywhere.")
    name: PathText = Field(description="Root path, mount folder, or the id.")
    letter: Annotated[str, AfterValidator(_drive_letter)] | None = Field(
        description='Drive letter such as "D:", or null.'
    )
    label: Label | None
    filesystem: (
        Annotated[str, Field(max_length=MAX_FILESYSTEM_CHARS), AfterValidator(_no_control)] | None
    )
    capacity_bytes: NonNegativeInt
    free_bytes: NonNegativeInt
    windows: bool = Field(
        default=False, description="Holds the Windows directory (WMI BootVolume)."
    )
    boot: bool = Field(default=False, description="Holds the boot manager (WMI SystemVolume).")

    @field_validator("free_bytes")
    @classmethod
    def _free_within_capacity(cls, free: int, info: ValidationInfo) -> int:
        return _check_free(free, info)


class BackupTarget(_Strict):
    """Where Windows Server Backup writes: a volume, a dedicated disk or a network share."""

    type: Literal["volume", "disk", "network"]
    volume_id: VolumeRef | None
    path: Annotated[str, Field(max_length=MAX_PATH_CHARS), AfterValidator(_unc_path)] | None
    label: Label | None
    capacity_bytes: NonNegativeInt | None
    free_bytes: NonNegativeInt | None

    @field_validator("free_bytes")
    @classmethod
    def _free_within_capacity(cls, free: int | None, info: ValidationInfo) -> int | None:
        return None if free is None else _check_free(free, info)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.type == "volume" and self.volume_id is None:
            raise _at("volume_id", "a target of type 'volume' needs a volume_id")
        if self.type == "network" and not self.path:
            raise _at("path", "a target of type 'network' needs a UNC path")
        return self


class BackupPolicy(_Strict):
    """The Windows Server Backup policy: what is backed up, to where and when."""

    sources: list[VolumeRef] = Field(max_length=MAX_VOLUMES)
    target: BackupTarget
    schedule: list[HHMM] = Field(max_length=MAX_SCHEDULE_TIMES)
    next_backup_at: AwareDatetime | None
    last_success_at: AwareDatetime | None
    last_result_hresult: int | None

    @field_validator("last_result_hresult")
    @classmethod
    def _unsigned_hresult(cls, value: int | None) -> int | None:
        # PowerShell prints HRESULTs as signed 32-bit integers; store them as Windows shows them.
        if value is None:
            return None
        if not -(2**31) <= value < 2**32:
            raise ValueError("is not a 32-bit HRESULT")
        return value & 0xFFFFFFFF


class ShadowStorage(_Strict):
    """A shadow-storage association: the diff area of one volume lives on another (or itself)."""

    for_volume_id: VolumeRef
    on_volume_id: VolumeRef
    used_bytes: NonNegativeInt
    allocated_bytes: NonNegativeInt
    max_bytes: NonNegativeInt | None = Field(description="null means unbounded")


class Snapshot(_Strict):
    """Everything the rules need to know about one host at one moment."""

    schema_: Literal[1] = Field(alias="schema")
    host: Annotated[
        str, Field(min_length=1, max_length=MAX_HOST_CHARS), AfterValidator(_no_control)
    ]
    collected_at: AwareDatetime
    volumes: list[Volume] = Field(max_length=MAX_VOLUMES)
    backup: BackupPolicy | None
    shadow_storage: list[ShadowStorage] = Field(max_length=MAX_VOLUMES)
    warnings: list[Annotated[str, Field(max_length=MAX_WARNING_CHARS)]] = Field(
        default_factory=list, max_length=MAX_WARNINGS
    )
    last_backup: LastBackup | None = Field(
        default=None, description="What Windows Server Backup recorded about its latest run."
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        known: set[str] = set()
        for n, volume in enumerate(self.volumes):
            if volume.id in known:
                raise _at(f"volumes[{n}].id", f"the volume id {volume.id!r} appears twice")
            known.add(volume.id)
        refs: list[tuple[str, str | None]] = []
        if self.backup is not None:
            refs += [(f"backup.sources[{n}]", s) for n, s in enumerate(self.backup.sources)]
            refs.append(("backup.target.volume_id", self.backup.target.volume_id))
        for n, row in enumerate(self.shadow_storage):
            refs.append((f"shadow_storage[{n}].for_volume_id", row.for_volume_id))
            refs.append((f"shadow_storage[{n}].on_volume_id", row.on_volume_id))
        for path, ref in refs:
            if ref is not None and ref not in known:
                raise _at(path, f"{ref!r} is not among the volumes")
        return self

    def volume(self, volume_id: str) -> Volume:
        """The volume with this id (ids are validated to resolve), from an index built once."""
        return self.volumes_by_id()[volume_id]

    def volumes_by_id(self) -> Mapping[str, Volume]:
        """Every volume by its id."""
        # Cached in __dict__ beside the fields (equality and dumps look at fields only). The cache
        # remembers which list it indexes: model_copy(update=…) copies it along with a new list.
        cached = self.__dict__.get("_volume_index")
        if cached is None or cached[0] is not self.volumes:
            cached = (self.volumes, {v.id: v for v in self.volumes})
            self.__dict__["_volume_index"] = cached
        index: Mapping[str, Volume] = cached[1]
        return index

    def to_json(self) -> str:
        """Snapshot v1 as JSON, with the `schema` key spelled as the contract says."""
        return self.model_dump_json(by_alias=True, indent=2)


class InvalidSnapshot(ValueError):
    """A document that is not a valid Snapshot v1; the message is one sentence."""


def primary_error(error: ValidationError) -> ErrorDetails:
    """The problem to tell first: a misspelt key also shows up as a missing one, so the
    misspelling wins."""
    errors = error.errors()
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def describe_validation_error(error: ValidationError, what: str, hint: str = "") -> str:
    """Turn pydantic's report into one sentence that names the field path (and adds a hint)."""
    first = primary_error(error)
    path = _format_loc(first["loc"])
    if "ctx" in first and "path" in first["ctx"]:
        path = ".".join(p for p in (path, first["ctx"]["path"]) if p)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        sentence = f"{what} is missing the field {path}"
    elif first["type"] == "extra_forbidden":
        sentence = f"{what} has an unknown field {path}"
    elif first["type"] == "literal_error" and path == "schema":
        sentence = f"{what} has schema {first['input']!r}, but only schema 1 is supported"
    elif path:
        sentence = f"{what} is invalid at {path}: {message}"
    else:
        sentence = f"{what} is invalid: {message}"
    sentence += hint
    more = error.error_count() - 1
    return sentence + (f" (and {more} more problem{'s' if more > 1 else ''})." if more else ".")


def _format_loc(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + part
    return path


def parse_snapshot(document: str | bytes) -> Snapshot:
    """Validate a JSON document as Snapshot v1, or raise InvalidSnapshot with one sentence."""
    try:
        text = decode(document)
        return Snapshot.model_validate_json(text, by_alias=True)
    except DocumentError as error:
        raise InvalidSnapshot(f"the snapshot {error}.") from None
    except ValidationError as error:
        if error.errors()[0]["type"] == "json_invalid":
            problem = json_problem(text) or "is not valid JSON"
            raise InvalidSnapshot(f"the snapshot {problem}.") from None
        raise InvalidSnapshot(describe_validation_error(error, "the snapshot")) from None
