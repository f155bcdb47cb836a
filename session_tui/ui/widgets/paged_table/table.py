"""PagedTable: a virtual table over a database query, read a page at a time.

The table never holds all rows. It knows how many rows match its query (the virtual
height is that count plus the header, so the scrollbar reflects the real total) and
reads only the pages around the viewport from its `PageSource` in thread workers,
caching a few pages (see `PageLoader`). It stays instant at a million rows.

A concrete table (ContactsTable, MembershipsTable) subclasses `PagedTable[Row, Query]`
and supplies: `columns(width)`, `render_row(row, selected, cursor, paint)`,
`matches_all(query)`, `same_matches(old, new)`, and optionally `_empty_text`,
`_sort_state`, `_header_clicked`, `_extra_spans`. Selection is opt-in: subclass
`SelectablePagedTable` (selectable.py) instead.

Public interface
----------------
- `table.table_query` -- the query shown (or being loaded); setting it re-reads the
  count and the rows, the cursor goes to the top. The old rows stay on screen until
  the new ones have arrived.
- `table.reload()` -- re-read count and visible rows after a database change. Keeps
  the cursor index (clamped to the new count) and the scroll position.
- `table.current_row`, `table.row_at(index)`, `table.cursor_index`,
  `table.move_cursor(index)`, `table.count`, `table.total` (None until loaded),
  `table.is_loading`, `table.rows_ready`, `table.body_height`.
- Messages (bubble to the screen): `CountChanged`, `Highlighted`, `LoadFailed`.
- Actions for key bindings (the subclass binds keys, with its own binding ids):
  cursor_up, cursor_down, page_up, page_down, first, last.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Generic

from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from session_tui.ui.widgets.paged_table.loader import PAGE_SIZE, PageLoader
from session_tui.ui.widgets.paged_table.paint import Paint
from session_tui.ui.widgets.paged_table.source import (
    Column,
    Identified,
    PageSource,
    QueryT,
    RowT,
    WidgetOptions,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

LINE_CACHE_SIZE = 600  # rendered rows (a row's line is rebuilt only when it changes)


@dataclass(eq=False)
class TableMessage(Message):
    """A message from a table: `table` is the widget, also its `control`."""

    table: Widget

    @property
    def control(self) -> Widget:
        return self.table


class PagedTable(PageLoader[RowT, QueryT], Generic[RowT, QueryT], can_focus=True):
    """A virtual table of database rows read page by page."""

    DEFAULT_CSS = (Path(__file__).with_name("table.tcss")).read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paged-table--header",
        "paged-table--header-sorted",
        "paged-table--cursor",
        "paged-table--selected",
        "paged-table--mark",
        "paged-table--placeholder",
        "paged-table--dim",
        "paged-table--message",
    }

    # -- messages ----------------------------------------------------------------------
    @dataclass(eq=False)
    class CountChanged(TableMessage):
        """The count of matching rows (or the total) changed."""

        count: int
        total: int
        counting: bool = False
        """True while the first rows are shown but the real count is still being read
        (`count` is then only a lower bound)."""

    @dataclass(eq=False)
    class Highlighted(TableMessage):
        """The cursor is on another row (`row` is None when the table is empty)."""

        row: Identified | None
        index: int

    @dataclass(eq=False)
    class LoadFailed(TableMessage):
        """Reading from the database failed; `message` is plain text (escape it)."""

        message: str

    def __init__(
        self,
        source: PageSource[RowT, QueryT],
        query: QueryT,
        **widget: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(source, query, **widget)
        self._last_highlight: tuple[int, int | None] | None = None
        self._line_cache: dict[tuple[object, ...], Strip] = {}

    # -- public interface --------------------------------------------------------------
    @property
    def table_query(self) -> QueryT:
        """The query shown (or being loaded). Not `query`: that is Textual's DOM query."""
        return self._query

    @table_query.setter
    def table_query(self, value: QueryT) -> None:
        if value == self._query:
            return
        self._query = value
        self._request_reload(keep_cursor=False)

    @property
    def cursor_index(self) -> int:
        return self._cursor

    @property
    def current_row(self) -> RowT | None:
        return self.row_at(self._cursor)

    @property
    def selection_pending(self) -> bool:
        """A select-all or invert is being computed (never, without selection)."""
        return False

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

    # -- what a concrete table supplies -----------------------------------------------------
    @abstractmethod
    def columns(self, width: int | None = None) -> list[Column]:
        """The columns and their widths for a content width (None: the table's)."""

    @abstractmethod
    def render_row(self, row: RowT, selected: bool, cursor: bool, paint: Paint) -> Strip:
        """A row as a line of `paint.width` cells."""

    def _empty_text(self, y: int, width: int) -> Text:
        """Line `y` of the table when the query matches nothing."""
        return Text("")

    def _sort_state(self) -> tuple[str | None, bool]:
        """The sort key of the rows shown (a `Column.sort`) and whether descending."""
        return None, False

    def _header_clicked(self, column: Column) -> None:
        """A click on a column header."""

    def _extra_spans(self) -> tuple[Style, ...]:
        """The styles of the table's own run kinds (paint.FIRST_EXTRA on)."""
        return ()

    def _is_selected(self, row: RowT) -> bool:
        return False

    # -- notifications from the loader ---------------------------------------------------
    def _loaded(self, count: int, total: int, counting: bool) -> None:
        self.refresh()
        self.post_message(self.CountChanged(self, count, total, counting=counting))

    def _after_load(self, query_changed: bool, keep_cursor: bool, counting: bool) -> None:
        self._last_highlight = None
        self._post_highlight()

    def _load_failed(self, message: str) -> None:
        self.post_message(self.LoadFailed(self, message))

    def _page_arrived(self, page: int) -> None:
        start = page * PAGE_SIZE
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

    # -- geometry ----------------------------------------------------------------------------
    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y + round(self.scroll_y))

    # -- rendering ---------------------------------------------------------------------------
    # A paint (`render_lines`) renders every visible line (~40). What the lines share --
    # the widget's Rich style, the columns for the width, the component styles -- is
    # computed once per paint (`_paint_context`), not once per line; it is dropped when
    # the paint ends, so theme, focus (the cursor style depends on :focus), style and
    # size changes are seen by the next paint. A `render_line` call outside a paint
    # computes its own.
    _paint: Paint | None = None
    _painting: bool = False

    def render_lines(self, crop: Region) -> list[Strip]:
        self._painting = True
        try:
            return super().render_lines(crop)
        finally:
            self._painting = False
            self._paint = None

    def _paint_context(self) -> Paint:
        paint = self._paint
        if paint is None:
            paint = self._make_paint(self.scrollable_content_region.width)
            if self._painting:
                self._paint = paint
        return paint

    def _make_paint(self, width: int) -> Paint:
        """The shared context of the lines of one paint at `width` cells."""
        component = self._component
        spans = (Style.null(), component("mark"), component("dim"), *self._extra_spans())
        return Paint.make(
            width,
            self.rich_style,
            self.columns(width),
            selected=component("selected"),
            cursor=component("cursor"),
            spans=spans,
        )

    def render_line(self, y: int) -> Strip:
        paint = self._paint_context()
        width, base = paint.width, paint.base
        if y == 0:
            return self._header_strip(paint)
        index = round(self.scroll_y) + y - 1
        count = self._count
        if count is None or (count == 0 and self._stale_empty):
            text = Text("  Loading…" if y == 1 else "", style=self._component("placeholder"))
            return self._strip(text, width, base)
        if count == 0:
            return self._strip(self._empty_text(y, width), width, base)
        if index >= count:
            return Strip.blank(width, base)
        row = self.row_at(index)
        selected = row is not None and self._is_selected(row)
        cursor = index == self._cursor
        row_style = paint.row_style(selected, cursor)
        if row is None:
            text = Text("  …", style=row_style + self._component("placeholder"))
            return self._strip(text, width, base)
        key = (row, selected, cursor, width, base, row_style)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self.render_row(row, selected, cursor, paint)
            self._cache_line(key, strip)
        return strip

    def notify_style_update(self) -> None:
        self._line_cache.clear()  # theme or pseudo-class change: colours differ
        super().notify_style_update()

    def _component(self, name: str) -> Style:
        """The Rich style of the component class `paged-table--{name}`."""
        return self.get_component_rich_style(f"paged-table--{name}", partial=True)

    def _strip(self, text: Text, width: int, base: Style) -> Strip:
        """A Text as a line of `width` cells (cut with an ellipsis or padded)."""
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console, end=""))
        return Strip(segments).adjust_cell_length(width, base).apply_style(base)

    def _cache_line(self, key: tuple[object, ...], strip: Strip) -> None:
        if len(self._line_cache) >= LINE_CACHE_SIZE:
            self._line_cache.pop(next(iter(self._line_cache)))
        self._line_cache[key] = strip

    def _header_strip(self, paint: Paint) -> Strip:
        sort, descending = self._sort_state()
        header = self._component("header")
        sorted_style = self._component("header-sorted")
        key = ("header", paint.width, paint.base, header, sorted_style, sort, descending)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._strip(self._header_text(paint.width), paint.width, paint.base)
            self._cache_line(key, strip)
        return strip

    def _header_text(self, width: int) -> Text:
        header = self._component("header")
        sorted_style = header + self._component("header-sorted")
        text = Text(style=header)
        sort, descending = self._sort_state()
        for col in self.columns(width):
            label = col.label
            style = header
            if col.sort is not None and col.sort == sort:
                label = f"{label} {'▼' if descending else '▲'}"
                style = sorted_style
            cell = Text(label, style=style)
            cell.truncate(col.width, overflow="ellipsis", pad=True)
            text.append_text(cell)
            if col.gap:
                text.append(" ", style=header)
        return text

    # -- cursor movement -----------------------------------------------------------------------
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

    # -- mouse ---------------------------------------------------------------------------------
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
                    self._header_clicked(col)
                    return
                x += col.width + col.gap
            return
        index = round(self.scroll_y) + offset.y - 1
        if self._count and 0 <= index < self._count:
            self.move_cursor(index)


__all__ = ["LINE_CACHE_SIZE", "PAGE_SIZE", "PagedTable"]
