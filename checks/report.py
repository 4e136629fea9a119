"""Report v1: the verdicts for one host (what `evaluate --format json` prints)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

REPORT_SCHEMA_VERSION = 1


class Status(StrEnum):
    """A volume's or host's verdict; `info` marks volumes outside the backup."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Badness for "worst first" (Icinga's order: critical > unknown > warning > ok)."""
        return _RANK[self]

    @property
    def exit_code(self) -> int:
        """The Nagios plugin exit code of this status."""
        return _EXIT[self]


_RANK = {Status.INFO: 0, Status.OK: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.CRITICAL: 3}
_EXIT = {Status.INFO: 0, Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}


def worst(statuses: list[Status]) -> Status:
    """The worst of some statuses; ok when there are none."""
    return max(statuses, key=lambda s: s.rank, default=Status.OK)


class Role(StrEnum):
    """Why a volume matters to the backup."""

    SOURCE = "source"
    DESTINATION = "destination"
    DIFF_AREA = "diff-area"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Command(_Frozen):
    """A command an admin can paste."""

    shell: Literal["cmd", "powershell"]
    text: str
    elevated: bool = Field(description="Needs a prompt opened with 'Run as administrator'.")


class Tip(_Frozen):
    """One way to fix a finding: what to do, and the commands for it."""

    code: str = Field(description="The code of the finding this tip fixes.")
    text: str
    commands: list[Command] = Field(default_factory=list)


class VolumeTrend(_Frozen):
    """A volume's free-space trend from the bot's stored history, and when it is expected to
    cross rule 2's thresholds within the forecast horizon."""

    free_bytes_per_day: int = Field(description="Change of free space per day; negative: falls.")
    since: AwareDatetime = Field(description="The first reading the trend rests on.")
    below_minimum_at: AwareDatetime | None = Field(
        description="When free space falls below required_free_bytes; null: not in the horizon."
    )
    below_recommended_at: AwareDatetime | None = Field(
        description="When free space falls below recommended_free_bytes; null: not in the horizon."
    )


class VolumeReport(_Frozen):
    """The verdict for one volume."""

    id: str
    name: str
    letter: str | None
    label: str | None
    roles: list[Role]
    status: Status
    capacity_bytes: int
    free_bytes: int
    required_free_bytes: int | None
    recommended_free_bytes: int | None
    shortfall_bytes: int | None
    tips: list[Tip]
    # Additive to schema 1: present only where stored history gives a trend.
    trend: VolumeTrend | None = Field(default=None, exclude_if=lambda v: v is None)


class Finding(_Frozen):
    """One thing wrong (or worth knowing), with a stable code and its numbers."""

    severity: Status
    code: str
    volume_id: str | None
    message: str
    required_bytes: int | None = None
    free_bytes: int | None = None
    shortfall_bytes: int | None = None
    tips: list[Tip] = Field(default_factory=list)


class Report(_Frozen):
    """Everything backupcheck concluded about one host."""

    schema_: Literal[1] = Field(default=1, alias="schema")
    host: str
    status: Status
    checked_at: AwareDatetime
    next_backup_at: AwareDatetime | None
    volumes: list[VolumeReport]
    findings: list[Finding]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_json(self) -> str:
        """Report v1 as JSON."""
        return self.model_dump_json(by_alias=True, indent=2)


_REPORTS = TypeAdapter(list[Report])


def reports_json(reports: list[Report]) -> str:
    """Several hosts' reports as one JSON array of Report v1."""
    return _REPORTS.dump_json(reports, by_alias=True, indent=2).decode("utf-8")
