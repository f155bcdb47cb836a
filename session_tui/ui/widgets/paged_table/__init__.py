"""A virtual, database-backed table read a page at a time, with opt-in selection.

- `PagedTable[Row, Query]` (table.py): paging, cursor, scrolling, rendering frame;
- `SelectablePagedTable[Row, Query]` (selectable.py): the same with a selection;
- `SortablePagedTable[Row, Query]` (sortable.py): the same, sorted by a column
  (header click, o / O);
- `Selection` (selection.py): the selected ids, select-all / invert, pending state;
- `PageSource` / `SelectableSource` / `Column` (source.py): what a table reads and shows;
- paint.py: rows built as Segments (cells cut like Rich's `Text.truncate`).
"""

from session_tui.ui.widgets.paged_table.loader import PAGE_SIZE
from session_tui.ui.widgets.paged_table.paint import Paint
from session_tui.ui.widgets.paged_table.selectable import SelectablePagedTable
from session_tui.ui.widgets.paged_table.selection import Selection, SelectOp
from session_tui.ui.widgets.paged_table.sortable import SortablePagedTable
from session_tui.ui.widgets.paged_table.source import (
    Column,
    Identified,
    PageSource,
    SelectableSource,
)
from session_tui.ui.widgets.paged_table.table import PagedTable

__all__ = [
    "PAGE_SIZE",
    "Column",
    "Identified",
    "PageSource",
    "Paint",
    "PagedTable",
    "SelectOp",
    "SelectableSource",
    "SelectablePagedTable",
    "Selection",
    "SortablePagedTable",
]
