"""MembershipsTable: the virtual, database-backed table of the Memberships screen.

It reuses ContactsTable's machinery (virtual height = count, pages read in thread
workers around the viewport, page cache, reverse reading for the second half) and
only changes what is shown: one row per membership, read from
`MembershipsRepository.page`. No selection and no sorting here (newest start first).

- `MembershipsTable(db, clock=utcnow)`; `table.membership_query` (a `MembershipQuery`
  without search) and `table.search` set what is shown; `reload()` after a change;
  `current_membership -> MembershipRow | None`; `count`, `total`.
- Messages: ContactsTable's `CountChanged`, `Highlighted` (its `row` is a
  MembershipRow), `LoadFailed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType

from session_tui.data.db import Database
from session_tui.data.models import Status
from session_tui.data.repositories.memberships import (
    MembershipQuery,
    MembershipRow,
    MembershipsRepository,
)
from session_tui.data.search import normalize_term
from session_tui.ui.moments import Clock, day
from session_tui.ui.user_text import literal
from session_tui.ui.widgets.contacts.table import Column, ContactsTable


@dataclass(frozen=True)
class MembershipsTableQuery:
    """What ContactsTable's machinery needs of a query: `search`, `filter` (None = no
    filter), `sort`, `descending`. `filter` is the MembershipQuery of the filter row."""

    search: str = ""
    filter: MembershipQuery | None = None
    sort: str = "started"
    descending: bool = True

    def to_query(self) -> MembershipQuery:
        return replace(self.filter or MembershipQuery(), search=self.search)


class _Source:
    """The repository as ContactsTable calls it (page / count / total / ids)."""

    def __init__(self, repo: MembershipsRepository) -> None:
        self.repo = repo

    def page(
        self, query: MembershipsTableQuery, offset: int, limit: int, total: int | None = None
    ) -> list[MembershipRow]:
        return self.repo.page(query.to_query(), offset, limit, total)

    def count(self, query: MembershipsTableQuery) -> int:
        return self.repo.count(query.to_query())

    def total(self) -> int:
        return self.repo.total()

    def ids(self, query: MembershipsTableQuery) -> list[int]:
        return []  # no selection of memberships

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


class MembershipsTable(ContactsTable, inherit_bindings=False):
    """Every membership, paged from the database."""

    HELP_SECTION = "Memberships table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="memberships_table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="memberships_table.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="memberships_table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False,
                id="memberships_table.page_down"),
        Binding("home,g", "first", "First membership", show=False,
                id="memberships_table.first"),
        Binding("end,G", "last", "Last membership", show=False, id="memberships_table.last"),
    ]

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(db, name=name, id=id, classes=classes)
        repo = MembershipsRepository(db, clock) if clock else MembershipsRepository(db)
        self.memberships = repo
        self.repository = _Source(repo)  # type: ignore[assignment]
        initial: Any = MembershipsTableQuery()
        self._query = initial
        self._shown_query = initial

    # -- public ------------------------------------------------------------------------------
    @property
    def table_query(self) -> MembershipsTableQuery:
        return self._query  # type: ignore[return-value]

    @table_query.setter
    def table_query(self, value: MembershipsTableQuery) -> None:
        self.contact_query = value  # type: ignore[assignment]

    @property
    def current_membership(self) -> MembershipRow | None:
        row: Any = self.current_row
        return row if isinstance(row, MembershipRow) else None

    # -- rendering -----------------------------------------------------------------------------
    def columns(self, width: int | None = None) -> list[Column]:
        if width is None:
            width = self.scrollable_content_region.width
        fixed = 7 + 9 + 10 + 10
        gaps = 7
        flexible = max(30, width - fixed - gaps - 1)
        email_w = max(10, flexible * 38 // 100)
        name_w = max(8, flexible * 30 // 100)
        product_w = max(8, flexible - email_w - name_w)
        return [
            Column("mark", "", 1),
            Column("email", "Email", email_w),
            Column("name", "Name", name_w),
            Column("product", "Product", product_w),
            Column("payment", "Payment", 7),
            Column("status", "Status", 9),
            Column("started", "Started", 10),
            Column("expires", "Expires", 10),
        ]

    def _row_text(  # type: ignore[override]
        self, row: MembershipRow, selected: bool, row_style: Style, width: int
    ) -> Text:
        text = Text(style=row_style)
        dim = self._component("dim")
        for col in self.columns(width):
            if col.key == "mark":
                cell = Text(" ")
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
                cell = Text(label, style=self._component(row.status.value))
            elif col.key == "started":
                cell = Text(day(row.started_at))
            else:
                cell = Text(day(row.expires_at), style=dim if row.expires_at is None else "")
            cell.truncate(col.width, overflow="ellipsis", pad=True)
            text.append_text(cell)
            if col.key != "mark":
                text.append(" ")
        return text

    def _status_style(self, status: Status) -> Style:
        return self._component(status.value)

    def _empty_text(self, y: int, width: int) -> Text:
        if y != 2:
            return Text("")
        query: Any = self._shown_query
        style = self._component("message")
        text = Text("  ", style=style)
        search = normalize_term(query.search)
        if search:
            text.append("No memberships match ")
            text.append_text(literal(f"“{search}”"))
            text.append(" and the filters." if query.filter is not None else ".")
        elif query.filter is not None:
            text.append("No memberships match the filters.")
        else:
            text.append("No memberships yet. Press a to add one.")
        return text


__all__ = ["MembershipsTable", "MembershipsTableQuery"]
