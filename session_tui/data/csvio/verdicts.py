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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from session_tui.data.csvio.reader import CsvLayout


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

    @property
    def data_rows(self) -> int:
        return self.added + self.skipped + self.duplicates + self.invalid

    def summary(self) -> dict[str, int]:
        """The four counts, under the keys `session-tui import --json` prints."""
        return {
            "added": self.added,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
        }

    def notes(self) -> list[str]:
        notes = list(self.layout.notes)
        if self.dates_defaulted:
            notes.append(
                f"{self.dates_defaulted:,} rows had a created_at that is not a date "
                "(YYYY-MM-DD[THH:MM:SS]); they get the import time as their joined date"
            )
        return notes
