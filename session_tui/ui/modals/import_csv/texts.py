"""What the import dialog says: the detected format, the counts, the summary, one row.

Everything from the file goes through `literal()`: never markup, never escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text

from session_tui.data.csvio import VERDICT_LABELS, CsvLayout, ImportReport, RowVerdict, Verdict
from session_tui.data.csvio.mapping import FIELD_LABELS, ColumnMapping
from session_tui.ui.modals.import_csv.layouts import Opened
from session_tui.ui.modals.import_csv.membership_report import (
    MembershipCounts,
    headline,
    membership_counts,
    memberships_summary,
    reads_memberships,
)
from session_tui.ui.user_text import clean, literal
from session_tui.ui.wording import plural

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")

VERDICT_STYLES = {
    Verdict.NEW: "green",
    Verdict.EXISTS: "dim",
    Verdict.DUPLICATE: "yellow",
    Verdict.INVALID: "bold red",
}


@dataclass(frozen=True)
class ImportOutcome:
    """What the import did (the dialog's result; None = cancelled, nothing written)."""

    added: int
    skipped: int
    duplicates: int
    invalid: int
    rejects_written: str | None = None
    memberships: MembershipCounts = MembershipCounts()

    @classmethod
    def of(cls, report: ImportReport) -> ImportOutcome:
        return cls(
            report.added,
            report.skipped,
            report.duplicates,
            report.invalid,
            memberships=membership_counts(report),
        )

    def memberships_text(self) -> str:
        """E.g. "164 memberships granted · 2 reactivated" (empty when none were)."""
        return memberships_summary(self.memberships)


def counts_text(report: ImportReport, *, done: bool) -> Text:
    """ "New 3 · Already exist (skipped) 2 · Repeated in the file 1 · Invalid 3 · 9 data rows"."""
    parts: list[tuple[str, int, str]] = [
        ("Added" if done else "New", report.added, "green"),
        ("Already exist (skipped)", report.skipped, ""),
        ("Repeated in the file", report.duplicates, "yellow"),
        ("Invalid", report.invalid, "red"),
    ]
    text = Text()
    for i, (label, n, style) in enumerate(parts):
        if i:
            text.append("  ·  ", style="dim")
        text.append(f"{label} ")
        text.append(f"{n:,}", style=f"bold {style}".strip())
    text.append(f"   ({report.data_rows:,} data rows)", style="dim")
    return text


def layout_lines(layout: CsvLayout, report: ImportReport | None = None) -> list[Text]:
    """The detected format, the column mapping, ignored columns and notes."""
    lines = []
    head = Text()
    head.append("Format  ", style="bold")
    head.append(
        f"{layout.encoding_name}, {layout.delimiter_name}-separated, header on line "
        f"{layout.header_line}"
    )
    lines.append(head)
    mapping = Text()
    mapping.append("Columns ", style="bold")
    for i, (label, header) in enumerate(mapped_columns(layout)):
        if i:
            mapping.append(" · ", style="dim")
        mapping.append(f"{label} = ")
        mapping.append_text(literal(f'"{header}"', style="cyan"))
    lines.append(mapping)
    ignored = Text()
    ignored.append("Ignored ", style="bold")
    columns = layout.column_mapping
    left_out = columns.ignored() if columns is not None else layout.ignored
    if left_out:
        shown = ", ".join(f'"{clean(h)}"' for h in left_out)
        ignored.append_text(literal(shown, style="dim"))
    else:
        ignored.append("no other columns", style="dim")
    lines.append(ignored)
    notes = report.notes() if report is not None else list(layout.notes)
    for note in notes:
        line = Text()
        line.append("Note    ", style="bold yellow")
        line.append_text(literal(note))
        lines.append(line)
    for line in lines:
        line.no_wrap = False
        line.overflow = "fold"
    return lines


def mapped_columns(layout: CsvLayout) -> list[tuple[str, str]]:
    """(field, header) for every mapped column, membership columns included."""
    columns = layout.column_mapping
    if columns is None:
        return layout.mapping()
    used = columns.used().items()
    return [(FIELD_LABELS[name], layout.header_name(index)) for name, index in used]


def mapping_message(name: str, proposal: ColumnMapping, *, asked: bool) -> str:
    """The line above the mapping step."""
    if asked:
        return f"Say which column of {name} holds what; p previews with it."
    found = (
        "the email is proposed from the values that look like emails"
        if proposal.index("email") is not None
        else "no column looks like emails: choose the one that holds them"
    )
    return f"No column of {name} is named email: say which column holds what ({found})."


def opened_message(opened: Opened | None, text: str) -> str:
    """`text`, after how the columns were mapped when the user mapped them."""
    if opened is not None and opened.recalled:
        return f"Using your mapping from last time · m to change. {text}"
    if opened is not None and opened.remembered:
        return f"Your mapping is kept for files with these columns · m to change. {text}"
    if opened is not None and opened.note:
        return f"{opened.note}. {text}"
    return text


def has_work(report: ImportReport) -> bool:
    """Whether importing would change anything: new contacts, or memberships."""
    counts = membership_counts(report)
    return report.added > 0 or counts.granted > 0 or counts.reactivated > 0


def confirm_label(report: ImportReport) -> str:
    if report.added or not has_work(report):
        return f"Import {plural(report.added, 'new contact')} (y)"
    counts = membership_counts(report)
    return f"Grant {plural(counts.granted + counts.reactivated, 'membership')} (y)"


def preview_message(report: ImportReport, shown: int) -> str:
    """The line above the preview: nothing written yet, and what the table shows."""
    rows = (
        "every row"
        if shown == report.data_rows
        else "the first rows and every later row that will not be added"
    )
    return (
        f"Preview of {report.data_rows:,} rows: nothing has been written yet. "
        f"The table shows {rows}."
    )


def summary_text(report: ImportReport) -> Text:
    """What the import did, its notes, and the offer to write the invalid rows."""
    summary = Text()
    summary.append("Imported ", style="bold")
    summary.append_text(literal(Path(report.layout.path).name, style="bold cyan"))
    summary.append("\n\n")
    summary.append_text(counts_text(report, done=True))
    if reads_memberships(report.layout):
        summary.append("\nMemberships ", style="bold")
        summary.append_text(literal(headline(report)))
    for note in report.notes():
        summary.append("\nNote: ", style="bold yellow")
        summary.append_text(literal(note))
    if report.invalid:
        summary.append(
            f"\n\n{report.invalid:,} invalid row{'s were' if report.invalid != 1 else ' was'} "
            "not imported. Write them to a rejects file -- the file's own columns plus "
            "'reason' -- to fix them and import that file again."
        )
    return summary


def row_detail(row: RowVerdict) -> Text:
    """One row of the preview in full (the table cuts long cells)."""
    text = Text()
    text.append(f"Line {row.line}: ", style="bold")
    text.append(VERDICT_LABELS[row.verdict], style=VERDICT_STYLES[row.verdict])
    if row.reason:
        text.append(" -- ")
        text.append_text(literal(row.reason, style="red"))
    text.no_wrap = False
    text.overflow = "fold"
    return text


def default_rejects_path(source: str) -> str:
    """`dir/contacts.csv` -> `dir/contacts-rejects.csv` (the text as typed, kept relative)."""
    path = Path(source)
    return str(path.with_name(f"{path.stem}-rejects.csv"))
