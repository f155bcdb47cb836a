"""SortablePagedTable: a SelectablePagedTable whose query carries its order.

The query (a frozen dataclass) has `sort` (a column's sort key) and `descending`.
A click on a sortable header sorts by that column (again: reverses it), `o`
(`action_cycle_sort`) goes to the next key of `SORT_CYCLE` ascending, `O`
(`action_reverse_sort`) reverses the order. A subclass sets `SORT_CYCLE` and
`sorted_query(query, key, descending)` (the query with that order).

`table_bindings(…)` gives such a table its keys (cursor, selection, sort).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Hashable, Iterable
from typing import ClassVar, Generic, Protocol, TypeVar

from textual.binding import Binding, BindingType

from session_tui.ui.widgets.paged_table.selectable import SelectablePagedTable
from session_tui.ui.widgets.paged_table.source import Column, RowT


class SortedQuery(Hashable, Protocol):
    """A table query with an order (its other fields say which rows match)."""

    @property
    def sort(self) -> str: ...

    @property
    def descending(self) -> bool: ...


SortedQueryT = TypeVar("SortedQueryT", bound=SortedQuery)


class SortablePagedTable(SelectablePagedTable[RowT, SortedQueryT], Generic[RowT, SortedQueryT]):
    """A selectable table sorted by one column at a time."""

    SORT_CYCLE: ClassVar[tuple[str, ...]] = ()  # the keys `o` goes through, in order

    @abstractmethod
    def sorted_query(self, query: SortedQueryT, key: str, descending: bool) -> SortedQueryT:
        """`query` sorted by `key` (one of the sort keys), reversed when `descending`."""

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        """Sort by `key`; without `descending`, keep the direction of the same key, or
        ascending for another one."""
        query = self.table_query
        if descending is None:
            descending = query.descending if key == query.sort else False
        self.table_query = self.sorted_query(query, key, descending)

    def same_matches(self, old: SortedQueryT, new: SortedQueryT) -> bool:
        """The same rows, perhaps in another order."""
        return self.sorted_query(new, old.sort, old.descending) == old

    def _sort_state(self) -> tuple[str | None, bool]:
        return self._shown_query.sort, self._shown_query.descending

    def _header_clicked(self, column: Column) -> None:
        if column.sort is None:
            return
        query = self.table_query
        self.sort_by(
            column.sort, descending=not query.descending if column.sort == query.sort else False
        )

    def action_cycle_sort(self) -> None:
        cycle = self.SORT_CYCLE
        self.sort_by(cycle[(cycle.index(self.table_query.sort) + 1) % len(cycle)], False)

    def action_reverse_sort(self) -> None:
        query = self.table_query
        self.sort_by(query.sort, descending=not query.descending)


def table_bindings(
    prefix: str,
    noun: str,
    restricted_by: str,
    sort_cycle: Iterable[str],
    *,
    in_footer: bool,
    select_id: str = "toggle_select",
) -> list[BindingType]:
    """The keys of a sortable table of `noun`s ("contact"), with the binding ids
    `{prefix}.up`…: cursor movement, selection within the rows that `restricted_by`
    leaves ("search / filter"), and `o` through the columns of `sort_cycle`.
    `in_footer`: space shows in the footer (`o` never does: no room at 80 columns);
    `select_id` names space's id."""

    def binding(keys: str, action: str, description: str, name: str, tooltip: str = "") -> Binding:
        return Binding(
            keys, action, description, show=False, tooltip=tooltip, id=f"{prefix}.{name}"
        )

    return [
        binding("up,k", "cursor_up", "Up", "up"),
        binding("down,j", "cursor_down", "Down", "down"),
        binding("pageup", "page_up", "Page up", "page_up"),
        binding("pagedown", "page_down", "Page down", "page_down"),
        binding("home,g", "first", f"First {noun}", "first"),
        binding("end,G", "last", f"Last {noun}", "last"),
        Binding(
            "space",
            "toggle_select",
            "Select",
            key_display="space",
            show=in_footer,
            tooltip=f"Select / unselect the {noun}, move down",
            id=f"{prefix}.{select_id}",
        ),
        binding("shift+down", "extend_down", "Extend selection down", "extend_down"),
        binding("shift+up", "extend_up", "Extend selection up", "extend_up"),
        binding(
            "ctrl+a",
            "select_all",
            "Select all",
            "select_all",
            f"Select every {noun} matching the {restricted_by}",
        ),
        binding(
            "asterisk",
            "invert_selection",
            "Invert selection",
            "invert",
            f"Invert the selection within the {restricted_by}",
        ),
        binding("escape", "clear_selection", "Clear selection", "clear_selection"),
        Binding(
            "o",
            "cycle_sort",
            "Sort",
            show=False,
            id=f"{prefix}.sort",
            tooltip=f"Sort by the next column: {', '.join(sort_cycle)}",
        ),
        binding("O", "reverse_sort", "Reverse sort", "reverse_sort", "Reverse the sort order"),
    ]


__all__ = ["SortablePagedTable", "SortedQuery", "table_bindings"]
