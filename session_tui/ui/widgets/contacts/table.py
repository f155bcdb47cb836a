"""ContactsTable: a virtual, database-backed table of contacts.

The table never holds all rows. It knows how many contacts match its query
(the virtual height is that count, so the scrollbar reflects the real total)
and reads only the pages around the viewport from
`ContactsRepository.page(query, offset, limit, total=count)` in thread
workers, caching a few pages. It stays instant at 1,000,000 contacts.

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

Messages (all bubble to the screen):
- `ContactsTable.CountChanged(table, count, total)` -- after every (re)load.
- `ContactsTable.Highlighted(table, row, index)` -- the cursor moved to another
  contact (row is None when the table is empty).
- `ContactsTable.SelectionChanged(table, selected, hidden, pending)` -- the
  selection or its hidden count changed; `pending` while a select-all or invert
  is being computed.
- `ContactsTable.LoadFailed(table, message)` -- a database error (already escaped
  for markup? no: plain text; escape it before showing).

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

from collections.abc import Iterable, Set
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from session_tui.data.db import Database, describe_error
from session_tui.data.models import Status
from session_tui.data.repositories.contacts import (
    ContactQuery,
    ContactRow,
    ContactsRepository,
    SortKey,
)
from session_tui.data.search import normalize_term
from session_tui.ui.moments import local_day
from session_tui.ui.user_text import clean, literal

PAGE_SIZE = 100
MAX_CACHED_PAGES = 12
LINE_CACHE_SIZE = 600  # rendered rows (a row's text is rebuilt only when it changes)
SORT_CYCLE: tuple[SortKey, ...] = (SortKey.NAME, SortKey.EMAIL, SortKey.STATUS, SortKey.JOINED)


def is_unrestricted(query: ContactQuery) -> bool:
    """True when the query matches every contact (no search text, no filter)."""
    return not normalize_term(query.search) and query.filter is None


def joined_text(created_at: datetime) -> str:
    """The date a contact joined, in local time (stored as naive UTC). Never raises."""
    return local_day(created_at)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    sort: SortKey | None = None


# -- row rendering without Rich Text (ContactsTable._row_strip) --------------------------
# A row is a list of runs (text, kind); a kind names the style of the Rich span the
# text would have in a Text: none (the row style only), the mark, dim, a status.
_PLAIN, _MARK, _DIM, _FIRST_STATUS = 0, 1, 2, 3


def _fit(text: str, kind: int, width: int, pad: int, out: list[tuple[str, int]]) -> None:
    """Append `text` cut or padded to `width` cells exactly as
    `Text.truncate(width, overflow="ellipsis", pad=True)` does (same Rich functions):
    too long, the text is cut to width-1 cells (a split wide character becomes a
    space) plus "…", in the text's style; too short, padded with spaces in `pad`."""
    length = cell_len(text)
    if length > width:
        cut = set_cell_size(text, width - 1) + "…"
        out.append((cut[: len(text)], kind))
        if len(cut) > len(text):  # beyond the original text: no span covers it
            out.append((cut[len(text):], pad))
        return
    if text:
        out.append((text, kind))
    if length < width:
        out.append((" " * (width - length), pad))


def _fit_pieces(
    pieces: list[tuple[str, int]], width: int, pad: int, out: list[tuple[str, int]]
) -> None:
    """`_fit` for text made of pieces in different styles (a Text with several spans).

    Text.truncate cuts the plain text and trims the spans by character offset, so
    the n-th character of the cut text keeps the style of the n-th of the original."""
    plain = "".join(text for text, _ in pieces)
    length = cell_len(plain)
    if length > width:
        cut = set_cell_size(plain, width - 1) + "…"
        start = 0
        for text, kind in pieces:
            if start >= len(cut):
                break
            end = start + len(text)
            if end > start:
                out.append((cut[start:end], kind))
            start = end
        if start < len(cut):
            out.append((cut[start:], pad))
        return
    out.extend(piece for piece in pieces if piece[0])
    if length < width:
        out.append((" " * (width - length), pad))


@dataclass
class _Paint:
    """What the lines of one paint share (see ContactsTable.render_lines)."""

    width: int
    base: Style  # the widget's Rich style (background, colour)
    columns: list[Column]
    fits: bool  # the columns (and their gaps) add up to exactly `width` cells
    selected: Style
    cursor: Style
    spans: tuple[Style, ...]  # the style of each kind (_PLAIN, _MARK, _DIM, statuses)
    spanned: tuple[bool, ...]  # a Text would have a span for this kind (style not null)
    status_kind: dict[Status, int]
    _row_styles: dict[tuple[bool, bool], Style] = field(default_factory=dict)
    _finals: dict[tuple[bool, bool], tuple[Style, ...]] = field(default_factory=dict)

    def row_style(self, selected: bool, cursor: bool) -> Style:
        """The style of a whole row: the selection, then the cursor on top."""
        style = self._row_styles.get((selected, cursor))
        if style is None:
            style = Style()
            if selected:
                style += self.selected
            if cursor:
                style += self.cursor
            self._row_styles[selected, cursor] = style
        return style

    def final_styles(self, selected: bool, cursor: bool) -> tuple[Style, ...]:
        """The style on screen of each kind: base + row style + the span's style (the
        order in which Text.render and Strip.apply_style combine them)."""
        styles = self._finals.get((selected, cursor))
        if styles is None:
            row_style = self.row_style(selected, cursor)
            styles = tuple(self.base + (row_style + span) for span in self.spans)
            self._finals[selected, cursor] = styles
        return styles


class ContactsTable(ScrollView, can_focus=True):
    """A virtual table of contacts read page by page from the database."""

    HELP_SECTION = "Contacts table"
    DEFAULT_CSS = (Path(__file__).with_name("table.tcss")).read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "contacts-table--header",
        "contacts-table--header-sorted",
        "contacts-table--cursor",
        "contacts-table--selected",
        "contacts-table--mark",
        "contacts-table--placeholder",
        "contacts-table--active",
        "contacts-table--expired",
        "contacts-table--none",
        "contacts-table--dim",
        "contacts-table--message",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "first", "First contact", show=False, id="table.first"),
        Binding("end,G", "last", "Last contact", show=False, id="table.last"),
        Binding("space", "toggle_select", "Select", key_display="space",
                tooltip="Select / unselect the contact, move down", id="table.toggle_select"),
        Binding("shift+down", "extend_down", "Extend selection down", show=False,
                id="table.extend_down"),
        Binding("shift+up", "extend_up", "Extend selection up", show=False,
                id="table.extend_up"),
        Binding("ctrl+a", "select_all", "Select all", show=False,
                tooltip="Select every contact matching the search / filter",
                id="table.select_all"),
        Binding("asterisk", "invert_selection", "Invert selection", show=False,
                tooltip="Invert the selection within the search / filter", id="table.invert"),
        Binding("escape", "clear_selection", "Clear selection", show=False,
                id="table.clear_selection"),
        Binding("o", "cycle_sort", "Sort", tooltip="Sort by the next column: name, email, "
                "status, joined", id="table.sort"),
        Binding("O", "reverse_sort", "Reverse sort", show=False,
                tooltip="Reverse the sort order", id="table.reverse_sort"),
    ]

    # -- messages ----------------------------------------------------------------
    class CountChanged(Message):
        """The count of matching contacts (or the total) changed."""

        def __init__(
            self, table: ContactsTable, count: int, total: int, counting: bool = False
        ) -> None:
            super().__init__()
            self.table = table
            self.count = count
            self.total = total
            # True while the first rows are shown but the real count is still being
            # read (`count` is then only a lower bound).
            self.counting = counting

        @property
        def control(self) -> ContactsTable:
            return self.table

    class Highlighted(Message):
        """The cursor is on another contact."""

        def __init__(self, table: ContactsTable, row: ContactRow | None, index: int) -> None:
            super().__init__()
            self.table = table
            self.row = row
            self.index = index

        @property
        def control(self) -> ContactsTable:
            return self.table

    class SelectionChanged(Message):
        """The selection changed (or how many of it the query hides)."""

        def __init__(
            self, table: ContactsTable, selected: int, hidden: int | None, pending: bool
        ) -> None:
            super().__init__()
            self.table = table
            self.selected = selected
            self.hidden = hidden
            self.pending = pending

        @property
        def control(self) -> ContactsTable:
            return self.table

    class LoadFailed(Message):
        """Reading from the database failed; `message` is plain text for the user."""

        def __init__(self, table: ContactsTable, message: str) -> None:
            super().__init__()
            self.table = table
            self.message = message

        @property
        def control(self) -> ContactsTable:
            return self.table

    # private results from the workers
    @dataclass
    class _Reloaded(Message):
        generation: int
        query: ContactQuery
        count: int
        total: int
        pages: dict[int, list[ContactRow]]
        keep_cursor: bool
        counting: bool = False

    @dataclass
    class _PageLoaded(Message):
        generation: int
        page: int
        rows: list[ContactRow]

    @dataclass
    class _Failed(Message):
        message: str

    @dataclass
    class _SelectionComputed(Message):
        op: str
        version: int
        ids: list[int]
        new_selection: set[int]

    @dataclass
    class _HiddenComputed(Message):
        generation: int
        version: int
        hidden: int

    # -- construction --------------------------------------------------------------
    def __init__(
        self,
        db: Database,
        query: ContactQuery | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.db = db
        self.repository = ContactsRepository(db)
        self._query = query or ContactQuery()
        self._shown_query = self._query
        self._generation = 0  # latest requested (re)load
        self._shown_generation = -1  # whose data is on screen
        self._count: int | None = None
        self._total: int | None = None
        self._pages: dict[int, list[ContactRow]] = {}
        self._inflight: frozenset[int] = frozenset()
        self._cursor = 0
        self._selection: set[int] = set()
        self._selection_version = 0
        self._selection_pending = False
        self._hidden: int | None = 0
        self._last_highlight: tuple[int, int | None] | None = None
        self._loaded_once = False
        self._counting = False  # first rows shown, real count still being read
        self._stale_empty = False  # "no rows" on screen is being re-read (see reload)
        self._line_cache: dict[tuple[object, ...], Strip] = {}

    def on_mount(self) -> None:
        self._request_reload(keep_cursor=False)

    # -- public interface ------------------------------------------------------------
    @property
    def contact_query(self) -> ContactQuery:
        """The query shown (or being loaded). Not `query`: that is Textual's DOM query."""
        return self._query

    @contact_query.setter
    def contact_query(self, value: ContactQuery) -> None:
        if value == self._query:
            return
        self._query = value
        self._request_reload(keep_cursor=False)

    def reload(self) -> None:
        """Re-read the count and the visible rows (after the database changed).

        When the table shows no rows (e.g. right after deleting every match), there is
        no cursor or scroll position to keep: the first rows are read and shown before
        the count (which takes seconds at a million contacts), and until they come the
        table says "Loading…" instead of the stale "No contacts match…"."""
        if self._count == 0 and not self.is_loading:
            self._stale_empty = True
            self.refresh()
            self._request_reload(keep_cursor=False, fresh=True)
        else:
            self._request_reload(keep_cursor=True)

    @property
    def count(self) -> int | None:
        return self._count

    @property
    def total(self) -> int | None:
        return self._total

    @property
    def is_loading(self) -> bool:
        """True until the rows AND the count of the latest query are in."""
        return self._shown_generation != self._generation or self._counting

    @property
    def rows_ready(self) -> bool:
        """The latest query's first rows are on screen (its count may still be coming)."""
        return self._shown_generation == self._generation

    @property
    def cursor_index(self) -> int:
        return self._cursor

    @property
    def current_row(self) -> ContactRow | None:
        return self.row_at(self._cursor)

    def row_at(self, index: int) -> ContactRow | None:
        """The row at `index` of the query's order if it is loaded, else None."""
        if self._count is None or not 0 <= index < self._count:
            return None
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        offset = index % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    @property
    def selection(self) -> Set[int]:
        """The selected contact ids (read-only view; use the methods to change it)."""
        return self._selection

    def selected_ids(self) -> frozenset[int]:
        return frozenset(self._selection)

    def ids_for_action(self) -> frozenset[int]:
        """The selected ids, or the current contact's id when nothing is selected."""
        if self._selection:
            return frozenset(self._selection)
        row = self.current_row
        return frozenset() if row is None else frozenset({row.id})

    @property
    def hidden_selected(self) -> int | None:
        return self._hidden

    @property
    def selection_pending(self) -> bool:
        return self._selection_pending

    def clear_selection(self) -> None:
        self._set_selection(set(), hidden=0)

    def select_ids(self, ids: Iterable[int]) -> None:
        self._selection.update(ids)
        self._selection_changed()

    def discard_ids(self, ids: Iterable[int]) -> None:
        """Forget ids (e.g. deleted contacts) from the selection."""
        self._selection.difference_update(ids)
        self._selection_changed(recompute_hidden=True)

    def move_cursor(self, index: int, *, scroll: bool = True) -> None:
        count = self._count or 0
        index = max(0, min(index, count - 1)) if count else 0
        old = self._cursor
        self._cursor = index
        if scroll:
            self._scroll_cursor_into_view()
        if old != index:
            self._refresh_row(old)
            self._refresh_row(index)
        self._ensure_pages()
        self._post_highlight()

    # -- geometry --------------------------------------------------------------------
    @property
    def body_height(self) -> int:
        """How many rows fit (the first line is the header)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        body = self.body_height
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + body:
            self.scroll_to(y=self._cursor - body + 1, animate=False)

    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y + round(self.scroll_y))

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, (self._count or 0) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._ensure_pages()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.is_mounted:
            self._ensure_pages()

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

    # -- rendering ---------------------------------------------------------------------
    # A paint (`render_lines`) renders every visible line (~40). What the lines share --
    # the widget's Rich style, the columns for the width, the component styles -- is
    # computed once per paint (`_paint_context`), not once per line; it is dropped when
    # the paint ends, so theme, focus (the cursor style depends on :focus), style and
    # size changes are seen by the next paint. A `render_line` call outside a paint
    # computes its own.
    _paint: _Paint | None = None
    _painting: bool = False

    def render_lines(self, crop: Region) -> list[Strip]:
        self._painting = True
        try:
            return super().render_lines(crop)
        finally:
            self._painting = False
            self._paint = None

    def _paint_context(self) -> _Paint:
        paint = self._paint
        if paint is None:
            paint = self._make_paint(self.scrollable_content_region.width)
            if self._painting:
                self._paint = paint
        return paint

    def _make_paint(self, width: int) -> _Paint:
        """The shared context of the lines of one paint at `width` cells."""
        component = self._component
        statuses = tuple(Status)
        spans = (
            Style.null(),  # _PLAIN: no span, the row style only
            component("mark"),
            component("dim"),
            *(self._status_style(status) for status in statuses),
        )
        columns = self.columns(width)
        fits = all(col.width >= 1 for col in columns) and width == sum(
            col.width + (col.key != "mark") for col in columns
        )
        return _Paint(
            width=width,
            base=self.rich_style,
            columns=columns,
            fits=fits,
            selected=component("selected"),
            cursor=component("cursor"),
            spans=spans,
            spanned=tuple(bool(style) for style in spans),
            status_kind={status: _FIRST_STATUS + i for i, status in enumerate(statuses)},
        )

    def render_line(self, y: int) -> Strip:
        paint = self._paint_context()
        width, base = paint.width, paint.base
        if y == 0:
            return self._header_strip(paint)
        index = round(self.scroll_y) + y - 1
        count = self._count
        if count is None:
            text = Text("  Loading…" if y == 1 else "", style=self._component("placeholder"))
            return self._strip(text, width, base)
        if count == 0:
            if self._stale_empty:
                text = Text("  Loading…" if y == 1 else "", style=self._component("placeholder"))
                return self._strip(text, width, base)
            return self._strip(self._empty_text(y, width), width, base)
        if index >= count:
            return Strip.blank(width, base)
        row = self.row_at(index)
        selected = row is not None and row.id in self._selection
        cursor = index == self._cursor
        row_style = paint.row_style(selected, cursor)
        if row is None:
            text = Text("  …", style=row_style + self._component("placeholder"))
            return self._strip(text, width, base)
        key = (row, selected, cursor, width, base, row_style)
        strip = self._line_cache.get(key)
        if strip is None:
            row_text = self._row_text(row, selected, row_style, width)
            if row_text is None:
                strip = self._row_strip(row, selected, cursor, paint)
            else:
                strip = self._strip(row_text, width, base)
            self._cache_line(key, strip)
        return strip

    def notify_style_update(self) -> None:
        self._line_cache.clear()  # theme or pseudo-class change: colours differ
        super().notify_style_update()

    def _component(self, name: str) -> Style:
        return self.get_component_rich_style(f"contacts-table--{name}", partial=True)

    def _strip(self, text: Text, width: int, base: Style) -> Strip:
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console, end=""))
        return Strip(segments).adjust_cell_length(width, base).apply_style(base)

    def _header_strip(self, paint: _Paint) -> Strip:
        query = self._shown_query
        header = self._component("header")
        sorted_style = self._component("header-sorted")
        key = ("header", paint.width, paint.base, header, sorted_style,
               query.sort, query.descending)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._strip(self._header_text(paint.width), paint.width, paint.base)
            self._cache_line(key, strip)
        return strip

    def _cache_line(self, key: tuple[object, ...], strip: Strip) -> None:
        if len(self._line_cache) >= LINE_CACHE_SIZE:
            self._line_cache.pop(next(iter(self._line_cache)))
        self._line_cache[key] = strip

    def _header_text(self, width: int) -> Text:
        header = self._component("header")
        sorted_style = header + self._component("header-sorted")
        text = Text(style=header)
        query = self._shown_query
        for col in self.columns(width):
            label = col.label
            style = header
            if col.sort is not None and col.sort == query.sort:
                label = f"{label} {'▼' if query.descending else '▲'}"
                style = sorted_style
            cell = Text(label, style=style)
            cell.truncate(col.width, overflow="ellipsis", pad=True)
            text.append_text(cell)
            if col.key != "mark":
                text.append(" ", style=header)
        return text

    def _empty_text(self, y: int, width: int) -> Text:
        if y != 2:
            return Text("")
        query = self._shown_query
        style = self._component("message")
        text = Text("  ", style=style)
        search = normalize_term(query.search)
        if search and query.filter is not None:
            text.append("No contacts match the search ")
            text.append_text(literal(f"“{search}”"))
            text.append(" and the filter.")
        elif search:
            text.append("No contacts match ")
            text.append_text(literal(f"“{search}”"))
            text.append(".")
        elif query.filter is not None:
            text.append("No contacts match the filter.")
        else:
            text.append("No contacts yet.")
        return text

    def _row_text(
        self, row: ContactRow, selected: bool, row_style: Style, width: int
    ) -> Text | None:
        """A subclass showing other rows returns the row as a Text here (rendered like
        the header). None: the contact row is built by `_row_strip`."""
        return None

    def _row_strip(self, row: ContactRow, selected: bool, cursor: bool, paint: _Paint) -> Strip:
        """A contact's row, built as Segments (no Rich Text: this runs for every visible
        row after every search).

        It shows exactly what a Text built like the header would -- cells of literal
        text (`clean`: no control characters, no markup), each cut with an ellipsis or
        padded to its column (`Text.truncate(overflow="ellipsis", pad=True)`), a space
        after every column but the mark -- with the same styles: base + row style +
        the cell's style (mark, the dim "—", the status colour, dim inactive products).
        tests/ui/test_table_rendering.py pins it against that Text rendering."""
        runs: list[tuple[str, int]] = []
        for col in paint.columns:
            key = col.key
            if key == "mark":
                _fit("● " if selected else "  ", _MARK, col.width, _MARK, runs)
                continue
            if key == "name":
                if row.full_name:
                    _fit(clean(row.full_name), _PLAIN, col.width, _PLAIN, runs)
                else:
                    _fit("—", _DIM, col.width, _DIM, runs)
            elif key == "email":
                _fit(clean(row.email), _PLAIN, col.width, _PLAIN, runs)
            elif key == "status":
                kind = paint.status_kind[row.status]
                _fit(clean(row.status.value), kind, col.width, _PLAIN, runs)
            elif key == "products":
                _fit_pieces(self._products_pieces(row), col.width, _PLAIN, runs)
            else:
                _fit(joined_text(row.created_at), _PLAIN, col.width, _PLAIN, runs)
            runs.append((" ", _PLAIN))
        width = paint.width
        if not paint.fits:  # the columns do not add up to the width: cut or pad the row
            runs, pieces = [], runs
            _fit_pieces(pieces, width, _PLAIN, runs)
        spanned = paint.spanned
        if any(spanned[kind] for _, kind in runs):
            styles = paint.final_styles(selected, cursor)
        else:  # Text.render ignores the Text's own style when it has no spans
            styles = (paint.base,) * len(spanned)
        segments: list[Segment] = []
        text_so_far, last = "", -1
        for text, kind in runs:
            if kind != last and text_so_far:
                segments.append(Segment(text_so_far, styles[last]))
                text_so_far = ""
            text_so_far += text
            last = kind
        if text_so_far:
            segments.append(Segment(text_so_far, styles[last]))
        if paint.fits or cell_len("".join(text for text, _ in runs)) == width:
            return Strip(segments, width)
        return Strip(segments).adjust_cell_length(width, paint.base)

    def _status_style(self, status: Status) -> Style:
        return self._component(status.value)

    @staticmethod
    def _products_pieces(row: ContactRow) -> list[tuple[str, int]]:
        """The products cell: active products first, inactive ones dim, ", " dim."""
        pieces: list[tuple[str, int]] = []
        ordered = sorted(row.products, key=lambda p: (not p[1], p[0].casefold()))
        for i, (name, active) in enumerate(ordered):
            if i:
                pieces.append((", ", _DIM))
            pieces.append((clean(name), _PLAIN if active else _DIM))
        return pieces

    # -- loading -----------------------------------------------------------------------
    def _request_reload(self, *, keep_cursor: bool, fresh: bool = False) -> None:
        """`fresh`: the database changed -- nothing known about the old count or total
        or rows is reused (only the cursor goes back to the top)."""
        self._generation += 1
        if keep_cursor:
            first = round(self.scroll_y)
            cursor = self._cursor
        else:
            first = 0
            cursor = 0
        rows = self.body_height if self.is_mounted else 50
        # Only the order changed: the count cannot have changed either.
        known: tuple[int, int] | None = None
        shown = self._shown_query
        if (
            not keep_cursor
            and not fresh
            and self._count is not None
            and self._total is not None
            and replace(self._query, sort=shown.sort, descending=shown.descending) == shown
        ):
            known = (self._count, self._total)
        # A new search/filter does not change how many contacts there are in all.
        known_total = None if keep_cursor or fresh else self._total
        # Typing on in the search box: the first rows on screen may already hold the
        # first rows of the new search (see ContactsRepository.refine).
        prior: tuple[tuple[ContactRow, ...], bool] | None = None
        first_page = self._pages.get(0)
        if (
            not keep_cursor
            and not fresh
            and known is None
            and first_page
            and self._shown_generation >= 0
            and self.repository.refines(shown, self._query)
        ):
            # complete: the page holds every match of the old query
            complete = not self._counting and self._count is not None and (
                self._count <= len(first_page)
            )
            prior = (tuple(first_page), complete)
        self._reload_worker(
            self._generation, self._query, first, cursor, rows, keep_cursor, known, known_total,
            prior,
        )

    @work(thread=True, exclusive=True, group="contacts-table-reload")
    def _reload_worker(
        self,
        generation: int,
        query: ContactQuery,
        first: int,
        cursor: int,
        rows: int,
        keep_cursor: bool,
        known: tuple[int, int] | None,
        known_total: int | None = None,
        prior: tuple[tuple[ContactRow, ...], bool] | None = None,
    ) -> None:
        worker = get_current_worker()
        repo = self.repository
        pages: dict[int, list[ContactRow]] = {}
        try:
            painted = False
            if prior is not None:
                # The new search narrows the one on screen: its first rows are those
                # of the rows on screen that match it. Paint them now if they fill the
                # window (or are all there is); count and page 0 are then read for real.
                first_rows = repo.refine(query, prior[0])
                if worker.is_cancelled:
                    return
                if len(first_rows) >= rows or prior[1]:
                    self.post_message(
                        self._Reloaded(
                            generation, query, len(first_rows),
                            known_total if known_total is not None else len(first_rows),
                            {0: first_rows}, keep_cursor, counting=True,
                        )
                    )
                    painted = True
            if known is not None:
                count, total = known
            elif painted:
                count = repo.count(query)
                total = count if is_unrestricted(query) else (
                    known_total if known_total is not None else repo.total()
                )
            else:
                if not keep_cursor:
                    # The first page needs no count; a short one *is* the count.
                    pages[0] = repo.page(query, 0, PAGE_SIZE)
                if worker.is_cancelled:
                    return
                if not keep_cursor and len(pages[0]) < PAGE_SIZE:
                    count = len(pages[0])
                else:
                    if not keep_cursor:
                        # Paint the first rows now; the count follows (for a one- or
                        # two-letter search it is a full scan; at start, count(*)).
                        shown_total = known_total if known_total is not None else len(pages[0])
                        self.post_message(
                            self._Reloaded(
                                generation, query, len(pages[0]), shown_total, dict(pages),
                                keep_cursor, counting=True,
                            )
                        )
                    count = repo.count(query)
                if is_unrestricted(query):
                    total = count
                elif known_total is not None:
                    total = known_total
                else:
                    total = repo.total()
            first = max(0, min(first, count - rows))
            wanted = set(range(first // PAGE_SIZE, (first + rows) // PAGE_SIZE + 1))
            wanted.add(min(cursor, max(0, count - 1)) // PAGE_SIZE)
            for page in sorted(wanted):
                if worker.is_cancelled:
                    return
                if page in pages or page * PAGE_SIZE >= count:
                    continue
                pages[page] = repo.page(query, page * PAGE_SIZE, PAGE_SIZE, total=count)
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
            if not worker.is_cancelled:
                self.post_message(self._Failed(describe_error(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self._Reloaded(generation, query, count, total, pages, keep_cursor))

    def on_contacts_table__reloaded(self, message: _Reloaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return  # superseded by a newer query
        if self._counting and message.generation == self._shown_generation:
            # The real count after the provisional first page: keep where the user is.
            message.keep_cursor = True
        self._counting = message.counting
        self._stale_empty = False
        query_changed = message.query != self._shown_query or not self._loaded_once
        self._shown_generation = message.generation
        self._shown_query = message.query
        self._count = message.count
        self._total = message.total
        self._pages = dict(message.pages)
        self._inflight = frozenset()
        self._loaded_once = True
        self._update_virtual_size()
        if message.keep_cursor:
            self._cursor = max(0, min(self._cursor, message.count - 1))
        else:
            self._cursor = 0
            self.scroll_to(y=0, animate=False)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(
            self.CountChanged(self, message.count, message.total, counting=message.counting)
        )
        self._ensure_pages()
        self._last_highlight = None
        self._post_highlight()
        if (query_changed or message.keep_cursor) and not message.counting:
            self._recompute_hidden()

    def on_contacts_table__failed(self, message: _Failed) -> None:
        message.stop()
        if self._stale_empty:
            self._stale_empty = False
            self.refresh()
        self.post_message(self.LoadFailed(self, message.message))

    def _wanted_pages(self) -> list[int]:
        count = self._count or 0
        if count == 0:
            return []
        top = round(self.scroll_y)
        body = self.body_height
        first = max(0, top - body // 2)
        last = min(count - 1, top + body + body // 2)
        pages = list(range(first // PAGE_SIZE, last // PAGE_SIZE + 1))
        cursor_page = self._cursor // PAGE_SIZE
        if cursor_page not in pages:
            pages.append(cursor_page)
        # visible pages first
        visible = top // PAGE_SIZE
        pages.sort(key=lambda p: abs(p - visible))
        return pages

    def _ensure_pages(self) -> None:
        if self._count is None or self._shown_generation < 0:
            return
        wanted = self._wanted_pages()
        missing = [p for p in wanted if p not in self._pages]
        self._evict(wanted)
        if not missing or set(missing) <= self._inflight:
            return
        self._inflight = frozenset(missing)
        self._page_worker(self._shown_generation, self._shown_query, missing, self._count)

    def _evict(self, wanted: list[int]) -> None:
        if len(self._pages) <= MAX_CACHED_PAGES:
            return
        centre = wanted[0] if wanted else 0
        keep = set(wanted)
        for page in sorted(self._pages, key=lambda p: -abs(p - centre)):
            if len(self._pages) <= MAX_CACHED_PAGES:
                break
            if page not in keep:
                del self._pages[page]

    @work(thread=True, exclusive=True, group="contacts-table-pages")
    def _page_worker(
        self, generation: int, query: ContactQuery, pages: list[int], count: int
    ) -> None:
        worker = get_current_worker()
        for page in pages:
            if worker.is_cancelled:
                return
            try:
                rows = self.repository.page(query, page * PAGE_SIZE, PAGE_SIZE, total=count)
            except Exception as exc:  # noqa: BLE001
                self.post_message(self._Failed(describe_error(exc)))
                return
            self.post_message(self._PageLoaded(generation, page, rows))

    def on_contacts_table__page_loaded(self, message: _PageLoaded) -> None:
        message.stop()
        self._inflight = self._inflight - {message.page}
        if message.generation != self._shown_generation:
            return
        self._pages[message.page] = message.rows
        start = message.page * PAGE_SIZE
        top = round(self.scroll_y)
        if start < top + self.body_height and start + PAGE_SIZE > top:
            self.refresh()
        self._post_highlight()

    def _post_highlight(self) -> None:
        row = self.current_row
        key = (self._cursor, None if row is None else row.id)
        if key == self._last_highlight:
            return
        if row is None and self._count:
            return  # still loading; posted when the page arrives
        self._last_highlight = key
        self.post_message(self.Highlighted(self, row, self._cursor))

    # -- selection ----------------------------------------------------------------------
    def _set_selection(self, new: set[int], *, hidden: int | None) -> None:
        self._selection = new
        self._selection_version += 1
        self._hidden = hidden
        self.refresh()
        self._post_selection()

    def _selection_changed(self, *, recompute_hidden: bool = False) -> None:
        self._selection_version += 1
        if not self._selection:
            self._hidden = 0
        elif recompute_hidden:
            self._recompute_hidden()
        self.refresh()
        self._post_selection()

    def _post_selection(self) -> None:
        self.post_message(
            self.SelectionChanged(
                self, len(self._selection), self._hidden, self._selection_pending
            )
        )

    def _recompute_hidden(self) -> None:
        if not self._selection or is_unrestricted(self._shown_query):
            self._hidden = 0
            self._post_selection()
            return
        self._hidden = None
        self._post_selection()
        self._hidden_worker(self._shown_generation, self._shown_query, self._selection_version)

    @work(thread=True, exclusive=True, group="contacts-table-hidden")
    def _hidden_worker(self, generation: int, query: ContactQuery, version: int) -> None:
        worker = get_current_worker()
        selection = self._selection  # read-only here; membership tests only
        size = len(selection)
        try:
            ids = self.repository.ids(query)
        except Exception as exc:  # noqa: BLE001
            self.post_message(self._Failed(describe_error(exc)))
            return
        visible = sum(1 for i in ids if i in selection)
        if not worker.is_cancelled:
            self.post_message(self._HiddenComputed(generation, version, max(0, size - visible)))

    def on_contacts_table__hidden_computed(self, message: _HiddenComputed) -> None:
        message.stop()
        if message.generation != self._shown_generation:
            return
        if message.version != self._selection_version:
            self._recompute_hidden()
            return
        self._hidden = message.hidden
        self._post_selection()

    def _toggle(self, index: int, *, select: bool | None = None) -> None:
        row = self.row_at(index)
        if row is None:
            return
        want = (row.id not in self._selection) if select is None else select
        if want:
            self._selection.add(row.id)
        else:
            self._selection.discard(row.id)
        self._selection_changed()

    def action_toggle_select(self) -> None:
        if not self._count:
            return
        self._toggle(self._cursor)
        self.move_cursor(self._cursor + 1)

    def action_extend_down(self) -> None:
        if not self._count:
            return
        self._toggle(self._cursor, select=True)
        self.move_cursor(self._cursor + 1)
        self._toggle(self._cursor, select=True)

    def action_extend_up(self) -> None:
        if not self._count:
            return
        self._toggle(self._cursor, select=True)
        self.move_cursor(self._cursor - 1)
        self._toggle(self._cursor, select=True)

    def action_select_all(self) -> None:
        self._start_ids_op("select")

    def action_invert_selection(self) -> None:
        self._start_ids_op("invert")

    def action_clear_selection(self) -> None:
        if self._selection:
            self.clear_selection()

    def _start_ids_op(self, op: str) -> None:
        if not self._count:
            return
        self._selection_pending = True
        self._post_selection()
        self._ids_worker(op, self._shown_query, self._selection_version, set(self._selection))

    @work(thread=True, exclusive=True, group="contacts-table-ids")
    def _ids_worker(self, op: str, query: ContactQuery, version: int, snapshot: set[int]) -> None:
        worker = get_current_worker()
        try:
            ids = self.repository.ids(query)
        except Exception as exc:  # noqa: BLE001
            self.post_message(self._Failed(describe_error(exc)))
            self.post_message(self._SelectionComputed("failed", version, [], snapshot))
            return
        if op == "select":
            snapshot.update(ids)
        else:
            snapshot.symmetric_difference_update(ids)
        if not worker.is_cancelled:
            self.post_message(self._SelectionComputed(op, version, ids, snapshot))

    def on_contacts_table__selection_computed(self, message: _SelectionComputed) -> None:
        message.stop()
        self._selection_pending = False
        if message.op == "failed":
            self._post_selection()
            return
        if message.version == self._selection_version:
            new = message.new_selection
        else:  # changed meanwhile: apply the operation to the current selection
            new = set(self._selection)
            if message.op == "select":
                new.update(message.ids)
            else:
                new.symmetric_difference_update(message.ids)
        # select-all and invert work within the query: the hidden part is unchanged
        hidden = self._hidden if new else 0
        self._set_selection(new, hidden=hidden)

    # -- sorting --------------------------------------------------------------------------
    def sort_by(self, key: SortKey, descending: bool | None = None) -> None:
        if descending is None:
            descending = self._query.descending if key == self._query.sort else False
        self.contact_query = replace(self._query, sort=key, descending=descending)

    def action_cycle_sort(self) -> None:
        current = self._query.sort
        nxt = SORT_CYCLE[(SORT_CYCLE.index(current) + 1) % len(SORT_CYCLE)]
        self.sort_by(nxt, descending=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self._query.sort, descending=not self._query.descending)

    # -- cursor movement ----------------------------------------------------------------
    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_down(self) -> None:
        body = self.body_height
        self.scroll_to(y=round(self.scroll_y) + body, animate=False)
        self.move_cursor(self._cursor + body)

    def action_page_up(self) -> None:
        body = self.body_height
        self.scroll_to(y=max(0, round(self.scroll_y) - body), animate=False)
        self.move_cursor(self._cursor - body)

    def action_first(self) -> None:
        self.scroll_to(y=0, animate=False)
        self.move_cursor(0)

    def action_last(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)
        self.move_cursor((self._count or 1) - 1)

    # -- mouse ----------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        self.focus()
        if offset.y == 0:
            x = 0
            for col in self.columns():
                if x <= offset.x < x + col.width + 1:
                    if col.sort is not None:
                        if col.sort == self._query.sort:
                            self.sort_by(col.sort, descending=not self._query.descending)
                        else:
                            self.sort_by(col.sort, descending=False)
                    return
                x += col.width + (1 if col.key != "mark" else 0)
            return
        index = round(self.scroll_y) + offset.y - 1
        if self._count and 0 <= index < self._count:
            self.move_cursor(index)


__all__ = ["ContactsTable", "PAGE_SIZE", "SORT_CYCLE", "is_unrestricted", "joined_text"]
