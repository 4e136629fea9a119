"""What Windows Server Backup recorded about its latest run: the optional `last_backup` part of
Snapshot v1, read from Get-WBSummary, Get-WBJob and the Microsoft-Windows-Backup event channel.

Every value comes from a host, so every string is bounded and free of control characters, every
list is bounded, times carry their offset and HRESULTs are integers (signed as PowerShell prints
them, or unsigned; kept unsigned). tests/fixtures/README.md says where each field comes from.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from checks.names import has_control

MAX_JOB_ITEMS = 256  # volumes, system state, bare-metal recovery, Hyper-V guests
MAX_EVENTS = 50  # the probe reads the newest 20
MAX_NAME_CHARS = 512
MAX_STATE_CHARS = 64  # enum names such as NoOperationInProgress
MAX_MESSAGE_CHARS = 2_000
MAX_EVENT_ID = 65_535


def _no_control(value: str) -> str:
    if has_control(value):
        shown = repr(value) if len(value) <= 40 else repr(value[:40]) + "…"
        raise ValueError(f"{shown} holds a control character")
    return value


def _hresult(value: int) -> int:
    # PowerShell prints Int32 HRESULTs signed (-2139619047); Windows shows them unsigned.
    if not -(2**31) <= value < 2**32:
        raise ValueError("is not a 32-bit HRESULT")
    return value & 0xFFFFFFFF


HResult = Annotated[StrictInt, AfterValidator(_hresult)]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(_no_control)]
State = Annotated[str, Field(max_length=MAX_STATE_CHARS), AfterValidator(_no_control)]
Message = Annotated[str, Field(max_length=MAX_MESSAGE_CHARS), AfterValidator(_no_control)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackupSummary(_Strict):
    """Get-WBSummary: the history of backups on the server."""

    last_backup_at: AwareDatetime | None = Field(description="LastBackupTime")
    last_success_at: AwareDatetime | None = Field(description="LastSuccessfulBackupTime")
    next_backup_at: AwareDatetime | None = Field(description="NextBackupTime")
    result_hresult: HResult | None = Field(description="LastBackupResultHR")
    detailed_hresult: HResult | None = Field(description="LastBackupResultDetailedHR")
    detailed_message: Message | None = Field(description="DetailedMessage")
    versions: Annotated[int, Field(ge=0, lt=2**32)] | None = Field(description="NumberOfVersions")
    current_operation: State | None = Field(description="CurrentOperationStatus")


class JobItem(_Strict):
    """One item of a job (a volume, the system state...), with its own result."""

    name: Name | None
    type: State | None
    state: State | None
    hresult: HResult | None
    detailed_hresult: HResult | None
    error: Message | None


class BackupJob(_Strict):
    """Get-WBJob: one backup or recovery operation."""

    type: State | None = Field(description="JobType: Backup, Recovery...")
    state: State | None = Field(description="JobState: Running, Completed...")
    started_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    hresult: HResult | None
    detailed_hresult: HResult | None
    error: Message | None = Field(description="ErrorDescription")
    items: list[JobItem] = Field(default_factory=list, max_length=MAX_JOB_ITEMS)


class BackupEvent(_Strict):
    """One event of the Microsoft-Windows-Backup channel."""

    id: Annotated[int, Field(ge=0, le=MAX_EVENT_ID)]
    at: AwareDatetime = Field(description="TimeCreated")
    hresult: HResult | None = Field(description="EventData HRESULT")
    detailed_hresult: HResult | None = Field(description="EventData DetailedHRESULT")
    backup_at: AwareDatetime | None = Field(description="EventData BackupTime")


class LastBackup(_Strict):
    """Everything read about the latest backup; a part that could not be read is null (its
    reason is among the snapshot's warnings)."""

    summary: BackupSummary | None = None
    job: BackupJob | None = Field(default=None, description="Get-WBJob -Previous 1")
    current_job: BackupJob | None = Field(default=None, description="Get-WBJob: the running one")
    events: list[BackupEvent] | None = Field(
        default=None,
        max_length=MAX_EVENTS,
        description="The newest Microsoft-Windows-Backup events, read when the cmdlets could "
        "not be; [] is an empty channel, null is not read",
    )
