"""SortablePagedTable: a SelectablePagedTable whose query carries its order.

The query (a frozen dataclass) has `sort` (a column's sort key) and `descending`.
A click on a sortable header sorts by that column (again: reverses it), `o`
(`action_cycle_sort`) goes to the next key of `SORT_CYCLE` ascending, `O`
(`action_reverse_sort`) reverses the order. A subclass sets `SORT_CYCLE` and
`sorted_query(query, key, descending)` (the query with that order).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Hashable
from typing import ClassVar, Generic, Protocol, TypeVar

from session_tui.ui.widgets.paged_table.selectable import SelectablePagedTable
from session_tui.ui.widgets.paged_table.source import Column, RowT


class SortedQuery(Hashable, Protocol):
    """A table query with an order (its other fields say which rows match)."""

    @property
    def sort(self) -> str: ...

    @property
    def descending(self) -> bool: ...


SortedQueryT = TypeVar("SortedQueryT", bound=SortedQuery)


class SortablePagedTable(
    SelectablePagedTable[RowT, SortedQueryT], Generic[RowT, SortedQueryT]
):
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
        self.sort_by(column.sort, descending=not query.descending if column.sort == query.sort
                     else False)

    def action_cycle_sort(self) -> None:
        cycle = self.SORT_CYCLE
        self.sort_by(cycle[(cycle.index(self.table_query.sort) + 1) % len(cycle)], False)

    def action_reverse_sort(self) -> None:
        query = self.table_query
        self.sort_by(query.sort, descending=not query.descending)


__all__ = ["SortablePagedTable", "SortedQuery"]
