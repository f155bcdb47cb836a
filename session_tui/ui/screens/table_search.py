"""The search box of a screen over one paged table (Contacts, Memberships).

`/` focuses the box; it searches as you type (`SearchBurst`: a burst of keystrokes
is one query at its end); enter, or leaving the box, applies the search and goes
back to the table. A failed read of the table is an error toast.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Hashable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from textual import on
from textual.widgets import Input

from session_tui.data.search import normalize_term
from session_tui.ui.key_table import HIDDEN, SHOWN, Key
from session_tui.ui.screens.top_screen import TopScreen
from session_tui.ui.user_text import escape_markup
from session_tui.ui.widgets.paged_table.count_line import TableCounts
from session_tui.ui.widgets.paged_table.table import PagedTable
from session_tui.ui.widgets.search_burst import SearchBurst

if TYPE_CHECKING:
    from dataclasses import Field


class SearchedQuery(Hashable, Protocol):
    """A table's query: a frozen dataclass with the search box's text."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def search(self) -> str: ...


QueryT = TypeVar("QueryT", bound=SearchedQuery)


def search_keys(*, search_tooltip: str = "", leave_tooltip: str) -> tuple[Key, Key]:
    """`/` into the search box, escape back to the table: rows for the screen's key
    table (ids `{scope}.search`, `{scope}.leave_search`). Both have priority: handled
    the moment the key arrives, so keys typed right after it (a fast typist, tmux
    send-keys) already go to the new focus; the screen's check_action disables them
    where they must not apply (escape is shown only while the search has the focus).
    `/` is not in the footer (no room at 80 columns): the search box's placeholder
    names it."""
    return (
        Key("slash", "focus_search", "Search", "search", HIDDEN, search_tooltip,
            key_display="/", priority=True),
        Key("escape", "leave_search", "Table", "leave_search", SHOWN, leave_tooltip,
            key_display="esc", priority=True),
    )  # fmt: skip


class TableSearch(TopScreen, Generic[QueryT]):
    """A screen whose search box (`#{SEARCH_ID}`) searches its `table`; `_counts` holds
    the table's counts for the screen's count line (the screen feeds it the table's
    `CountChanged` and `SelectionChanged`)."""

    SEARCH_ID: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self._search_burst = SearchBurst(self, self._apply_search)
        self._counts = TableCounts()

    @property
    @abstractmethod
    def table(self) -> PagedTable[Any, QueryT]:
        """The table the search box searches."""

    @property
    def search_input(self) -> Input:
        return self.query_one(f"#{self.SEARCH_ID}", Input)

    def _in_search(self) -> bool:
        """The focus is in the search box (or what else leaving it also leaves)."""
        return self.focused is self.search_input

    # Focus changes use set_focus (immediate), not widget.focus() (deferred): keys
    # typed right after `/` (a fast typist, a paste, tmux) must land in the box.
    def action_focus_search(self) -> None:
        self.set_focus(self.search_input)

    def action_leave_search(self) -> None:
        if self._in_search():
            self._search_burst.flush()
            self.set_focus(self.table)

    @on(Input.Changed)
    def _search_changed(self, event: Input.Changed) -> None:
        if event.input is self.search_input:
            self._search_burst.changed()

    @on(Input.Submitted)
    def _search_submitted(self, event: Input.Submitted) -> None:
        if event.input is self.search_input:
            self._search_burst.flush()
            self.set_focus(self.table)

    def _apply_search(self) -> None:
        table = self.table
        text = self.search_input.value
        if normalize_term(text) != normalize_term(table.table_query.search):
            table.table_query = replace(table.table_query, search=text)

    @on(PagedTable.LoadFailed)
    def _load_failed(self, event: PagedTable.LoadFailed) -> None:
        self.notify(escape_markup(event.message), title="Database error", severity="error")


__all__ = ["SearchedQuery", "TableSearch", "search_keys"]
