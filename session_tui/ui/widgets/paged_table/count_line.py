"""The count line under a table: "1,204 of 52,310 memberships · 3 selected (1 hidden…)".

`count_line(noun, …)` is the text; `TableCounts` keeps what it says, fed from the
table's `CountChanged` and `SelectionChanged` messages, so a screen only stores one
`TableCounts` and asks it for `line(noun)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from session_tui.ui.widgets.paged_table.selectable import SelectablePagedTable
from session_tui.ui.widgets.paged_table.table import PagedTable
from session_tui.ui.wording import plural


def count_line(
    noun: str,
    count: int | None,
    total: int | None,
    selected: int = 0,
    hidden: int | None = 0,
    *,
    pending: bool = False,
    restricted_by: str = "search/filters",
    applied: str = "",
) -> str:
    """The count line of `noun`s (singular, e.g. "membership"): the matching rows out
    of the total, then the selection and how many of it the query hides. `applied`
    (e.g. `Segment "GP or free"`) goes first when given."""
    if count is None or total is None:
        text = f"Counting {noun}s…"
    elif count == total:
        text = plural(total, noun)
    else:
        text = f"{count:,} of {total:,} {noun}s"
    if applied:
        text = f"{applied} · {text}"
    if pending:
        text += " · selecting…"
    elif selected:
        text += f" · {selected:,} selected"
        if hidden is None:
            text += " (…)"
        elif hidden:
            text += f" ({hidden:,} hidden by the {restricted_by})"
    return text


@dataclass
class TableCounts:
    """What a count line says: the count (None while counting), total and selection."""

    count: int | None = None
    total: int | None = None
    selected: int = 0
    hidden: int | None = 0
    pending: bool = False

    def counted(self, event: PagedTable.CountChanged) -> None:
        # While `counting`, the first rows are shown and the real count is on its way
        # (event.count is only how many rows have arrived).
        self.count = None if event.counting else event.count
        self.total = event.total

    def selection_changed(self, event: SelectablePagedTable.SelectionChanged) -> None:
        self.selected, self.hidden, self.pending = event.selected, event.hidden, event.pending

    def line(self, noun: str, *, restricted_by: str = "search/filters", applied: str = "") -> str:
        return count_line(
            noun,
            self.count,
            self.total,
            self.selected,
            self.hidden,
            pending=self.pending,
            restricted_by=restricted_by,
            applied=applied,
        )


__all__ = ["TableCounts", "count_line"]
