"""What an import reports: each row's verdict, the counts, progress.

Every data row gets one verdict:

- `new`: added;
- `exists`: its email is already in the database -- skipped (this wins over
  `duplicate`: a row whose email was in the database before the import is
  always "already exists", however often the file repeats it);
- `duplicate`: an earlier row of the file has the same email (the first wins);
- `invalid`: with a reason (empty or malformed email, name over 200 characters).

added + skipped + duplicates + invalid = the data rows (blank lines and rows of
empty cells are not data rows).

Memberships the file names (importer's membership columns) are counted apart:
granted (new memberships), reactivated (an existing contact's cancelled or
expired membership, with `update_memberships`), unchanged (an existing
contact's membership left as it is: already active, or the file's one is over),
skipped (their product does not exist and is not created, or is archived).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from session_tui.data.csvio.reader import CsvLayout
from session_tui.data.records import attributes
from session_tui.data.validation import strip_controls

if TYPE_CHECKING:
    from session_tui.data.csvio.import_stage import StagedRows


class Verdict(StrEnum):
    NEW = "new"
    EXISTS = "exists"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


VERDICT_LABELS = {
    Verdict.NEW: "new",
    Verdict.EXISTS: "already exists (skipped)",
    Verdict.DUPLICATE: "repeated in the file",
    Verdict.INVALID: "invalid",
}


class ImportCancelled(Exception):
    """The user cancelled the import; nothing was written."""

    def __init__(self) -> None:
        super().__init__("import cancelled: nothing was written")


@dataclass(frozen=True)
class RowVerdict:
    line: int  # physical line of the file where the row starts
    verdict: Verdict
    email: str
    first_name: str
    last_name: str
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    done: int  # bytes of the file read
    total: int  # bytes in the file
    rows: int  # data rows so far
    stage: str = "reading"  # "reading", then "indexing" (search index, SQLite)

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


# The counts of `ImportReport.summary()`, by the report's own attribute names.
CONTACT_COUNTS = ("added", "skipped", "duplicates", "invalid")
MEMBERSHIP_COUNTS = (
    "memberships_granted",
    "memberships_reactivated",
    "memberships_unchanged",
    "memberships_skipped",
    "products_created",
)

ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]


@dataclass
class ImportReport:
    layout: CsvLayout
    dry_run: bool
    added: int = 0
    skipped: int = 0
    duplicates: int = 0
    invalid: int = 0
    dates_defaulted: int = 0  # rows whose created_at could not be read: import time used
    rows: list[RowVerdict] = field(default_factory=list)  # sample for the preview
    has_membership_columns: bool = False  # the file has a column memberships come from
    memberships_read: int = 0  # memberships named by the rows that were acted on
    memberships_granted: int = 0
    memberships_reactivated: int = 0
    memberships_unchanged: int = 0
    memberships_skipped: int = 0
    # Products the file names that do not exist, as first written in the file, sorted.
    products_to_create: tuple[str, ...] = ()
    products_created: int = 0  # created by this import (0 in a dry run: to create)
    products_archived: tuple[str, ...] = ()  # archived products the file names: skipped
    # A preview's parsed rows, for the import (`import_csv(..., stage=True)`).
    staged: StagedRows | None = field(default=None, repr=False, compare=False)

    @property
    def data_rows(self) -> int:
        return self.added + self.skipped + self.duplicates + self.invalid

    def summary(self) -> dict[str, int]:
        """The counts, under the keys `session-tui import --json` prints: the four of
        the contacts, plus `membership_summary()` once the import grants, reactivates
        or keeps a membership (a file whose memberships are all skipped, or that
        names none, keeps the four keys; the CLI's --json always has them all)."""
        out = attributes(self, CONTACT_COUNTS)
        if (
            self.memberships_granted
            or self.memberships_reactivated
            or self.memberships_unchanged
            or self.products_created
        ):
            out.update(self.membership_summary())
        return out

    def membership_summary(self) -> dict[str, int]:
        return attributes(self, MEMBERSHIP_COUNTS)

    def headline(self) -> str:
        """One line: `added 120 contacts · 164 memberships granted · 3 products to create`."""
        parts = [f"added {_n(self.added, 'contact')}"]
        if self.has_membership_columns:
            parts.append(f"{_n(self.memberships_granted, 'membership')} granted")
            parts += _counted(
                (self.memberships_reactivated, "", "reactivated"),
                (self.memberships_unchanged, "", "unchanged"),
                (self.memberships_skipped, "membership", "skipped"),
            )
        parts += _counted(
            (self.products_created, "product", "created")
            if self.products_created
            else (len(self.products_to_create), "product", "to create")
        )
        return " · ".join(parts)

    def notes(self) -> list[str]:
        notes = list(self.layout.notes)
        if self.dates_defaulted:
            notes.append(
                f"{self.dates_defaulted:,} rows had a created_at that is not a date "
                "(YYYY-MM-DD[THH:MM:SS]); they get the import time as their joined date"
            )
        if self.products_archived:
            names = ", ".join(f"'{strip_controls(n)}'" for n in self.products_archived)
            notes.append(
                f"memberships of archived products are skipped ({names}): "
                "unarchive them first to import those"
            )
        return notes


def _counted(*counts: tuple[int, str, str]) -> list[str]:
    """`2 reactivated`, `1 product created`: each (count, noun, outcome) but those of 0."""
    return [f"{_n(count, noun)} {outcome}" for count, noun, outcome in counts if count]


def _n(count: int, one: str = "") -> str:
    """`1 contact`, `1,200 contacts`; the bare number without a noun."""
    if not one:
        return f"{count:,}"
    return f"{count:,} {one if count == 1 else one + 's'}"
