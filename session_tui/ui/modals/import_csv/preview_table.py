"""The preview's table: one line per row of the file that matters (line, verdict,
email, name, reason), its columns as wide as the dialog allows."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from session_tui.data.csvio import ImportReport, Verdict
from session_tui.ui.modals.import_csv.texts import VERDICT_STYLES
from session_tui.ui.user_text import literal

TABLE_ROWS = 1_200  # rows in the preview table at most (the report keeps ~1,200)
# Short forms for the preview table (the counts line spells them out).
TABLE_VERDICTS = {
    Verdict.NEW: "new",
    Verdict.EXISTS: "exists: skip",
    Verdict.DUPLICATE: "repeated",
    Verdict.INVALID: "invalid",
}
DIALOG_WIDTH = 112  # #import-dialog's width in import_csv.tcss (it shrinks to the screen)
PREVIEW_COLUMNS = [
    ("Line", "line"),
    ("Verdict", "verdict"),
    ("Email", "email"),
    ("Name", "name"),
    ("Reason", "reason"),
]


def preview_column_widths(inner: int) -> list[int]:
    """Widths of the preview's columns for a dialog `inner` cells wide: Line and Verdict
    as they are, Email / Name / Reason share the rest (28 : 20 : 30 at most), so that
    at 80 columns every column, the reason too, is on screen. Each column also takes
    2 cells of padding; 2 more are kept for the scrollbar."""
    fixed = [6, 12]
    room = inner - 2 - 2 * len(PREVIEW_COLUMNS) - sum(fixed)
    best = [28, 20, 30]
    if room >= sum(best):
        return fixed + best
    room = max(room, 3 * 6)
    email = room * best[0] // sum(best)
    name = room * best[1] // sum(best)
    return fixed + [email, name, room - email - name]


def widths_for(screen_width: int) -> list[int]:
    """The column widths of the dialog on a screen `screen_width` cells wide."""
    return preview_column_widths(min(DIALOG_WIDTH, screen_width) - 4)


def set_columns(table: DataTable[Text], widths: list[int]) -> None:
    """(Re)create the table's columns with these widths (the rows go)."""
    table.clear(columns=True)
    for (label, key), width in zip(PREVIEW_COLUMNS, widths, strict=True):
        table.add_column(label, key=key, width=width)


def shown_rows(report: ImportReport) -> int:
    return min(len(report.rows), TABLE_ROWS)


def fill_table(table: DataTable[Text], report: ImportReport) -> None:
    table.clear()
    for row in report.rows[:TABLE_ROWS]:
        name = f"{row.first_name} {row.last_name}".strip()
        table.add_row(
            Text(str(row.line), justify="right"),
            Text(TABLE_VERDICTS[row.verdict], style=VERDICT_STYLES[row.verdict]),
            literal(row.email),
            literal(name),
            literal(row.reason, style="red" if row.reason else ""),
        )
