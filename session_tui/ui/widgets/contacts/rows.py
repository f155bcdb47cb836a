"""A contact's row of the ContactsTable, built as Segments (no Rich Text: this runs
for every visible row after every keystroke of a search).

It shows exactly what a Text built like the header would -- cells of literal text
(`clean`: no control characters, no markup), each cut with an ellipsis or padded to
its column (`Text.truncate(overflow="ellipsis", pad=True)`), a space after every
column but the mark -- with the same styles: base + row style + the cell's style
(mark, the dim "—", the status colour, dim inactive products).
tests/ui/test_table_rendering.py pins it against that Text rendering.
"""

from __future__ import annotations

from datetime import datetime

from textual.strip import Strip

from session_tui.data.enums import Status
from session_tui.data.repositories.contacts import ContactRow
from session_tui.ui.moments import local_day
from session_tui.ui.user_text import clean
from session_tui.ui.widgets.paged_table.paint import (
    DIM,
    FIRST_EXTRA,
    MARK,
    PLAIN,
    Paint,
    Run,
    fit,
    fit_pieces,
    runs_strip,
)

STATUSES = tuple(Status)
# the run kind of each status: its style is the table's `_extra_spans()` in this order
STATUS_KIND = {status: FIRST_EXTRA + i for i, status in enumerate(STATUSES)}


def joined_text(created_at: datetime) -> str:
    """The date a contact joined, in local time (stored as naive UTC). Never raises."""
    return local_day(created_at)


def products_pieces(row: ContactRow) -> list[Run]:
    """The products cell: active products first, inactive ones dim, ", " dim."""
    pieces: list[Run] = []
    ordered = sorted(row.products, key=lambda p: (not p[1], p[0].casefold()))
    for i, (name, active) in enumerate(ordered):
        if i:
            pieces.append((", ", DIM))
        pieces.append((clean(name), PLAIN if active else DIM))
    return pieces


def contact_strip(row: ContactRow, selected: bool, cursor: bool, paint: Paint) -> Strip:
    """The contact's line in the table's columns (`paint.columns`)."""
    runs: list[Run] = []
    for col in paint.columns:
        key = col.key
        if key == "mark":
            fit("● " if selected else "  ", MARK, col.width, MARK, runs)
            continue
        if key == "name":
            if row.full_name:
                fit(clean(row.full_name), PLAIN, col.width, PLAIN, runs)
            else:
                fit("—", DIM, col.width, DIM, runs)
        elif key == "email":
            fit(clean(row.email), PLAIN, col.width, PLAIN, runs)
        elif key == "status":
            fit(clean(row.status.value), STATUS_KIND[row.status], col.width, PLAIN, runs)
        elif key == "products":
            fit_pieces(products_pieces(row), col.width, PLAIN, runs)
        else:
            fit(joined_text(row.created_at), PLAIN, col.width, PLAIN, runs)
        runs.append((" ", PLAIN))
    return runs_strip(runs, paint, selected, cursor)


__all__ = ["STATUSES", "contact_strip", "joined_text", "products_pieces"]
