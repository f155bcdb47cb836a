"""MembershipsTable: the virtual, database-backed table of the Memberships screen.

A `StatusTable` (widgets/status_table.py, on widgets/paged_table): virtual height =
count, pages read in thread workers around the viewport, page cache, reverse reading
for the second half.
One row per membership, read from `MembershipsRepository.page`.

- `MembershipsTable(db, clock=utcnow)`; `table.table_query` (a `MembershipsTableQuery`:
  the search box text, the filter row's `MembershipQuery`, the order) sets what is
  shown; `reload()` after a change; `current_membership -> MembershipRow | None`;
  `count`, `total`; `sort_by(MembershipSort, descending=None)`.
- Selection, by membership id, exactly as on the Contacts table: `selection`,
  `selected_ids()`, `ids_for_action()` (the selection, or the current row), `clear_selection()`,
  `select_ids(ids)`, `discard_ids(ids)`, `hidden_selected`, `selection_pending`.
- Messages: PagedTable's `CountChanged`, `Highlighted` (its `row` is a
  MembershipRow), `LoadFailed`, `SelectionChanged` (the same classes as
  `ContactsTable.CountChanged`…).
- Keys: `space` selects and moves down, shift+up/down extend, `ctrl+a` selects every
  membership matching the search and filters (their ids read in one query, in a
  worker), `*` inverts within them, `escape` clears; `o` cycles the order (email,
  product, started, expires), `O` reverses it; a click on a header sorts by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.strip import Strip

from session_tui.data.db import Database
from session_tui.data.repositories.memberships import (
    MembershipQuery,
    MembershipRow,
    MembershipsRepository,
)
from session_tui.data.repositories.memberships.rows import MembershipSort
from session_tui.ui.moments import Clock, day
from session_tui.ui.user_text import literal
from session_tui.ui.widgets.paged_table import Column, Paint
from session_tui.ui.widgets.paged_table.sortable import table_bindings
from session_tui.ui.widgets.paged_table.source import WidgetOptions
from session_tui.ui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from typing_extensions import Unpack

SORT_CYCLE: tuple[MembershipSort, ...] = tuple(MembershipSort)


@dataclass(frozen=True)
class MembershipsTableQuery:
    """What the table shows: the search box text, the filter row's query (None = no
    filter) and the order (by default newest start first)."""

    search: str = ""
    filter: MembershipQuery | None = None
    sort: MembershipSort = MembershipSort.STARTED
    descending: bool = True

    def to_query(self) -> MembershipQuery:
        return replace(self.filter or MembershipQuery(), search=self.search)


class MembershipsSource:
    """`MembershipsRepository` as the table's `PageSource` (it takes a MembershipQuery)."""

    def __init__(self, repo: MembershipsRepository) -> None:
        self.repo = repo

    def page(
        self, query: MembershipsTableQuery, offset: int, limit: int, total: int | None = None
    ) -> list[MembershipRow]:
        return self.repo.page(
            query.to_query(), offset, limit, total, sort=query.sort, descending=query.descending
        )

    def count_and_page(
        self, query: MembershipsTableQuery, offset: int, limit: int
    ) -> tuple[int | None, list[MembershipRow]]:
        return None, self.page(query, offset, limit)  # the count apart, as before

    def ids(self, query: MembershipsTableQuery) -> list[int]:
        return self.repo.ids(query.to_query())

    def count(self, query: MembershipsTableQuery) -> int:
        return self.repo.count(query.to_query())

    def total(self) -> int:
        return self.repo.total()

    @staticmethod
    def refines(old: MembershipsTableQuery, new: MembershipsTableQuery) -> bool:
        return (
            old.sort == new.sort
            and old.descending == new.descending
            and MembershipsRepository.refines(old.to_query(), new.to_query())
        )

    def refine(
        self, query: MembershipsTableQuery, rows: Sequence[MembershipRow]
    ) -> list[MembershipRow]:
        return self.repo.refine(query.to_query(), rows)


class MembershipsTable(StatusTable[MembershipRow, MembershipsTableQuery], inherit_bindings=False):
    """Every membership, paged from the database."""

    HELP_SECTION = "Memberships table"

    SORT_CYCLE = SORT_CYCLE

    # Space and o are not in the footer (no room at 80 columns beside the screen's
    # keys): in ? and the command palette.
    BINDINGS: ClassVar[list[BindingType]] = table_bindings(
        "memberships_table",
        "membership",
        "search / filters",
        SORT_CYCLE,
        in_footer=False,
        select_id="select",
    )

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        **widget: Unpack[WidgetOptions],
    ) -> None:
        repo = MembershipsRepository(db, clock) if clock else MembershipsRepository(db)
        super().__init__(MembershipsSource(repo), MembershipsTableQuery(), **widget)
        self.db = db
        self.memberships = repo

    # -- public ------------------------------------------------------------------------------
    @property
    def current_membership(self) -> MembershipRow | None:
        return self.current_row

    def sorted_query(
        self, query: MembershipsTableQuery, key: str, descending: bool
    ) -> MembershipsTableQuery:
        return replace(query, sort=MembershipSort(key), descending=descending)

    # -- rendering -----------------------------------------------------------------------------
    def columns(self, width: int | None = None) -> list[Column]:
        if width is None:
            width = self.scrollable_content_region.width
        fixed = 7 + 9 + 10 + 10
        gaps = 7
        flexible = max(30, width - fixed - gaps - 1)
        email_w = max(10, flexible * 38 // 100)
        name_w = max(8, flexible * 30 // 100)
        # the selection mark takes one more cell than the margin it replaced
        product_w = max(8, flexible - email_w - name_w - 1)
        return [
            Column("mark", "", 2),
            Column("email", "Email", email_w, MembershipSort.EMAIL),
            Column("name", "Name", name_w),
            Column("product", "Product", product_w, MembershipSort.PRODUCT),
            Column("payment", "Payment", 7),
            Column("status", "Status", 9),
            Column("started", "Started", 10, MembershipSort.STARTED),
            Column("expires", "Expires", 10, MembershipSort.EXPIRES),
        ]

    def render_row(self, row: MembershipRow, selected: bool, cursor: bool, paint: Paint) -> Strip:
        text = self._row_text(row, paint.row_style(selected, cursor), paint.width, selected)
        return self._strip(text, paint.width, paint.base)

    def _row_text(
        self, row: MembershipRow, row_style: Style, width: int, selected: bool = False
    ) -> Text:
        """The row as a Rich Text, each cell cut by `Text.truncate` (a few hundred
        memberships are on screen at most, so Text is fast enough here)."""
        text = Text(style=row_style)
        dim = self._component("dim")
        for col in self.columns(width):
            if col.key == "mark":
                cell = Text("● " if selected else "  ", style=self._component("mark"))
            elif col.key == "email":
                cell = literal(row.email)
            elif col.key == "name":
                cell = literal(row.full_name) if row.full_name else Text("—", style=dim)
            elif col.key == "product":
                cell = literal(row.product)
                if row.product_archived:
                    cell.stylize(dim)
            elif col.key == "payment":
                cell = literal(row.payment_type)
            elif col.key == "status":
                label = "cancelled" if row.cancelled else row.status.value
                cell = Text(label, style=self._status_style(row.status))
            elif col.key == "started":
                cell = Text(day(row.started_at))
            else:
                cell = Text(day(row.expires_at), style=dim if row.expires_at is None else "")
            cell.truncate(col.width, overflow="ellipsis", pad=True)
            text.append_text(cell)
            if col.gap:
                text.append(" ")
        return text

    def _no_match_text(self, search: str, filtered: bool) -> Text:
        if search:
            and_filters = " and the filters." if filtered else "."
            return Text.assemble("No memberships match ", literal(f"“{search}”"), and_filters)
        if filtered:
            return Text("No memberships match the filters.")
        return Text("No memberships yet. Press a to add one.")


__all__ = ["SORT_CYCLE", "MembershipsSource", "MembershipsTable", "MembershipsTableQuery"]
