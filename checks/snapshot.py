"""Snapshot v1: the facts a collector gathers about one host (the input of the rules)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
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

SNAPSHOT_SCHEMA_VERSION = 1
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


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

    id: str = Field(min_length=1, description="Win32_Volume.DeviceID; the key everywhere.")
    name: str = Field(min_length=1, description="Root path, mount folder, or the id.")
    letter: str | None = Field(description='Drive letter such as "D:", or null.')
    label: str | None
    filesystem: str | None
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
    volume_id: str | None
    path: str | None
    label: str | None
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

    sources: list[str]
    target: BackupTarget
    schedule: list[HHMM]
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

    for_volume_id: str
    on_volume_id: str
    used_bytes: NonNegativeInt
    allocated_bytes: NonNegativeInt
    max_bytes: NonNegativeInt | None = Field(description="null means unbounded")


class Snapshot(_Strict):
    """Everything the rules need to know about one host at one moment."""

    schema_: Literal[1] = Field(alias="schema")
    host: str = Field(min_length=1)
    collected_at: AwareDatetime
    volumes: list[Volume]
    backup: BackupPolicy | None
    shadow_storage: list[ShadowStorage]
    warnings: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        ids = [v.id for v in self.volumes]
        known = set(ids)
        if len(known) != len(ids):
            n = next(n for n, i in enumerate(ids) if ids.count(i) > 1 and ids.index(i) < n)
            raise _at(f"volumes[{n}].id", f"the volume id {ids[n]!r} appears twice")
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
        """The volume with this id (ids are validated to resolve)."""
        return next(v for v in self.volumes if v.id == volume_id)

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
        return Snapshot.model_validate_json(document, by_alias=True)
    except ValidationError as error:
        if error.errors()[0]["type"] == "json_invalid":
            raise InvalidSnapshot(
                f"the snapshot is not valid JSON: {error.errors()[0]['ctx']['error']}."
            ) from None
        raise InvalidSnapshot(describe_validation_error(error, "the snapshot")) from None
