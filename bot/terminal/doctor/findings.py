"""What the doctor found: one line per check, and the verdict over all of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from checks.i18n import Catalog
from checks.report import Status


class Outcome(StrEnum):
    """How one check went."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's output: what was checked, what was found and how to fix it."""

    name: str
    outcome: Outcome
    detail: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing needs fixing (a skipped check needs nothing either)."""
        return self.outcome is not Outcome.FAILED


def exit_code(findings: Sequence[Finding]) -> int:
    """0 when nothing needs fixing, else CRITICAL's 2 (a broken config exits 3 before this)."""
    return Status.OK.exit_code if all(f.ok for f in findings) else Status.CRITICAL.exit_code


def summary(findings: Sequence[Finding], t: Catalog) -> str:
    """The last line: all good, or how many problems there are to fix."""
    failed = sum(not f.ok for f in findings)
    return t.text("doctor.summary_failed", count=failed) if failed else t.text("doctor.summary_ok")
