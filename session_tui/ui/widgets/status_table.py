"""StatusTable: what the Contacts and Memberships tables share.

A `SortablePagedTable` whose query has the search box's text (`search`) and a filter
(`filter`, None when there is none), and whose rows have a status (active, expired,
none) coloured by status_table.tcss. A subclass words its empty table in
`_no_match_text`.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from rich.style import Style
from rich.text import Text

from session_tui.data.enums import Status
from session_tui.data.search import normalize_term
from session_tui.ui.widgets.paged_table.sortable import SortablePagedTable, SortedQuery
from session_tui.ui.widgets.paged_table.source import RowT


class SearchedFilteredQuery(SortedQuery, Protocol):
    """A sorted query with the search box's text and a filter (None: no filter)."""

    @property
    def search(self) -> str: ...

    @property
    def filter(self) -> object | None: ...


QueryT = TypeVar("QueryT", bound=SearchedFilteredQuery)


class StatusTable(SortablePagedTable[RowT, QueryT], Generic[RowT, QueryT]):
    """A sortable, searchable, filterable table of rows with a status."""

    DEFAULT_CSS = Path(__file__).with_name("status_table.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"status-table--{status.value}" for status in Status}

    def matches_all(self, query: QueryT) -> bool:
        """No search text, no filter: every row matches."""
        return not normalize_term(query.search) and query.filter is None

    def _status_style(self, status: Status) -> Style:
        return self.get_component_rich_style(f"status-table--{status.value}", partial=True)

    @abstractmethod
    def _no_match_text(self, search: str, filtered: bool) -> Text:
        """What the empty table says: nothing matches the search text (normalized; ""
        when none) and/or the filter, or there are no rows at all."""

    def _empty_text(self, y: int, width: int) -> Text:
        if y != 2:
            return Text("")
        query = self._shown_query
        search = normalize_term(query.search)
        text = Text("  ", style=self._component("message"))
        text.append_text(self._no_match_text(search, filtered=query.filter is not None))
        return text


__all__ = ["SearchedFilteredQuery", "StatusTable"]
