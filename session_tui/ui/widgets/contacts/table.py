"""ContactsTable: a virtual, database-backed table of contacts.

A `StatusTable` (widgets/status_table.py, on widgets/paged_table) over
`ContactsRepository`: it never holds all rows, reads the pages around the viewport
in thread workers and stays instant at 1,000,000 contacts. Rows are built by rows.py.

Public interface (for the other screens, modals and keys)
---------------------------------------------------------
- `ContactsTable(db, query=ContactQuery(), id=...)`
- `table.contact_query` -- the `ContactQuery` shown (not `query`: Textual's
  `DOMNode.query()` must keep working). Setting it (search box, filter
  panel, sort keys) re-reads the count and the rows; the cursor goes to the top.
  The old rows stay on screen until the new ones have arrived.
- `table.reload()` -- re-read count and visible rows after a database change
  (delete, edit, import, undo). Keeps the cursor index (clamped to the new count)
  and the scroll position.
- `table.current_row -> ContactRow | None` -- the row under the cursor (None when
  the table is empty or the row is still loading).
- `table.cursor_index -> int`, `table.move_cursor(index)`.
- `table.count` (contacts matching the query), `table.total` (all contacts);
  both None until the first load has finished.
- Selection (ids of contacts, survives scrolling, sorting and query changes):
  `table.selection` (a read-only set view), `table.selected_ids() -> frozenset[int]`,
  `table.clear_selection()`, `table.select_ids(ids)`, `table.discard_ids(ids)`
  (call it with the ids you deleted), `table.hidden_selected` (how many selected
  contacts the current query hides; None while being computed).
- `table.ids_for_action() -> frozenset[int]` -- the selected ids, or the current
  contact's id when nothing is selected (what `d` / `delete` act on).
- `table.sort_by(key, descending=None)`.

Messages (all bubble to the screen; the classes are PagedTable's, shared by every
table built on it):
- `ContactsTable.CountChanged(table, count, total, counting)` -- after every (re)load.
- `ContactsTable.Highlighted(table, row, index)` -- the cursor moved to another
  contact (row is None when the table is empty).
- `ContactsTable.SelectionChanged(table, selected, hidden, pending)` -- the
  selection or its hidden count changed; `pending` while a select-all or invert
  is being computed.
- `ContactsTable.LoadFailed(table, message)` -- a database error, in plain text
  (escape it before showing it as markup).

Keys (`BINDINGS`, every one has an `id` so users/others can remap):
up/down, k/j, pageup/pagedown, home/end, g/G move the cursor; `space` toggles
the selection of the current row and moves down; `shift+up`/`shift+down` extend
the selection; `ctrl+a` selects every contact matching the query; `*` inverts
the selection within the query; `escape` clears the selection; `o` cycles the
sort column (name, email, status, joined), `O` reverses it. Clicking a row moves
the cursor there; clicking a column header sorts by it (again: reverses).
To add keys, subclass or add bindings on the screen; the screen's keys such as
`d`, `e`, `enter`, `a` should use `table.current_row` / `table.ids_for_action()`.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.strip import Strip

from session_tui.data.db import Database
from session_tui.data.repositories.contacts import (
    ContactQuery,
    ContactRow,
    ContactsRepository,
    SortKey,
)
from session_tui.ui.user_text import literal
from session_tui.ui.widgets.contacts.rows import STATUSES, contact_strip, joined_text
from session_tui.ui.widgets.paged_table import PAGE_SIZE, Column, Paint
from session_tui.ui.widgets.paged_table.sortable import table_bindings
from session_tui.ui.widgets.paged_table.source import WidgetOptions
from session_tui.ui.widgets.status_table import StatusTable

if TYPE_CHECKING:
    from typing_extensions import Unpack

SORT_CYCLE: tuple[SortKey, ...] = (SortKey.NAME, SortKey.EMAIL, SortKey.STATUS, SortKey.JOINED)

# A first read of the table started before the table exists: its query and result.
FirstRead = tuple[ContactQuery, "Future[tuple[int | None, list[ContactRow]]]"]


def start_first_read(db: Database) -> FirstRead:
    """Start reading what a new Contacts table reads first (`count_and_page` of the
    default query from row 0) in a thread, at the app's start (`cli.prepare_app`),
    while Textual starts and the screen is built; the table's first load takes the
    result (`SessionApp.take_first_read`) instead of reading it once mounted, so the
    first frame drawn after the mount can already hold the rows (docs/performance.md,
    "First paint, sixth round"). A failed read is read again by the table, which
    reports it as any failed read."""
    query = ContactQuery()
    repository = ContactsRepository(db)
    future: Future[tuple[int | None, list[ContactRow]]] = Future()

    def read() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(repository.count_and_page(query, 0, PAGE_SIZE))
        except BaseException as exc:  # noqa: BLE001 - handed to the table's worker
            future.set_exception(exc)

    threading.Thread(target=read, name="contacts-first-read", daemon=True).start()
    return query, future


class ContactsTable(StatusTable[ContactRow, ContactQuery]):
    """A virtual table of contacts read page by page from the database."""

    HELP_SECTION = "Contacts table"

    SORT_CYCLE = SORT_CYCLE

    BINDINGS: ClassVar[list[BindingType]] = table_bindings(
        "table", "contact", "search / filter", SORT_CYCLE, in_footer=True
    )

    def __init__(
        self,
        db: Database,
        query: ContactQuery | None = None,
        **widget: Unpack[WidgetOptions],
    ) -> None:
        repository = ContactsRepository(db)
        super().__init__(repository, query or ContactQuery(), **widget)
        self.db = db
        self.repository = repository

    def _take_first_read(
        self, query: ContactQuery
    ) -> Future[tuple[int | None, list[ContactRow]]] | None:
        take = getattr(self.app, "take_first_read", None)
        return None if take is None else take(query)

    # -- public interface ------------------------------------------------------------
    @property
    def contact_query(self) -> ContactQuery:
        """The query shown (or being loaded). Not `query`: that is Textual's DOM query."""
        return self.table_query

    @contact_query.setter
    def contact_query(self, value: ContactQuery) -> None:
        self.table_query = value

    def sorted_query(self, query: ContactQuery, key: str, descending: bool) -> ContactQuery:
        return replace(query, sort=SortKey(key), descending=descending)

    # -- columns and rows ------------------------------------------------------------------
    def columns(self, width: int | None = None) -> list[Column]:
        """The columns and their widths for a content width."""
        if width is None:
            width = self.scrollable_content_region.width
        fixed = 2 + 8 + 10
        gaps = 5
        flexible = max(30, width - fixed - gaps)
        name_w = max(10, flexible * 30 // 100)
        email_w = max(10, flexible * 36 // 100)
        products_w = max(8, flexible - name_w - email_w)
        return [
            Column("mark", "", 2),
            Column("name", "Name", name_w, SortKey.NAME),
            Column("email", "Email", email_w, SortKey.EMAIL),
            Column("status", "Status", 8, SortKey.STATUS),
            Column("products", "Products", products_w),
            Column("joined", "Joined", 10, SortKey.JOINED),
        ]

    def render_row(self, row: ContactRow, selected: bool, cursor: bool, paint: Paint) -> Strip:
        return self._row_strip(row, selected, cursor, paint)

    def _row_strip(self, row: ContactRow, selected: bool, cursor: bool, paint: Paint) -> Strip:
        """A contact's row, built as Segments (see rows.py)."""
        return contact_strip(row, selected, cursor, paint)

    def _extra_spans(self) -> tuple[Style, ...]:
        return tuple(self._status_style(status) for status in STATUSES)

    def _no_match_text(self, search: str, filtered: bool) -> Text:
        if search and filtered:
            return Text.assemble(
                "No contacts match the search ", literal(f"“{search}”"), " and the filter."
            )
        if search:
            return Text.assemble("No contacts match ", literal(f"“{search}”"), ".")
        return Text("No contacts match the filter." if filtered else "No contacts yet.")


__all__ = ["PAGE_SIZE", "SORT_CYCLE", "Column", "ContactsTable", "joined_text"]
