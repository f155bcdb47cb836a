"""What a PagedTable reads its rows from, and how it lays them out.

`PageSource` is the small interface the table's paging needs; the repositories
(`ContactsRepository`, an adapter over `MembershipsRepository`) fit it as they are.
`SelectableSource` adds `ids`, for tables whose rows can be selected.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypedDict, TypeVar

MARK_KEY = "mark"  # the column that shows whether a row is selected


class Identified(Protocol):
    """A row of a PagedTable: it has an id (a database id, unique in the table)."""

    @property
    def id(self) -> int: ...


class WidgetOptions(TypedDict, total=False):
    """The keyword arguments every Textual widget takes, passed on as they are."""

    name: str | None
    id: str | None
    classes: str | None


RowT = TypeVar("RowT", bound=Identified)
QueryT = TypeVar("QueryT", bound=Hashable)
_RowInv = TypeVar("_RowInv", bound=Identified)
_QueryContra = TypeVar("_QueryContra", contravariant=True)


class PageSource(Protocol[_RowInv, _QueryContra]):
    """Rows of a query, a window at a time (called from thread workers)."""

    def count(self, query: _QueryContra) -> int:
        """How many rows match the query."""
        ...

    def total(self) -> int:
        """How many rows there are in all (no search, no filter)."""
        ...

    def page(
        self, query: _QueryContra, offset: int, limit: int, total: int | None = None
    ) -> list[_RowInv]:
        """Rows [offset, offset+limit) in the query's order; `total` is the query's
        count when known (a source may read the second half backwards with it)."""
        ...

    def count_and_page(
        self, query: _QueryContra, offset: int, limit: int
    ) -> tuple[int | None, list[_RowInv]]:
        """Rows [offset, offset+limit) in the query's order, and the query's count when
        the source gets it with them at about their cost, else None (the table then
        paints the rows and asks `count`)."""
        ...

    def refines(self, old: _QueryContra, new: _QueryContra) -> bool:
        """`new` only narrows `old`'s search: its matches are some of `old`'s, in order."""
        ...

    def refine(self, query: _QueryContra, rows: Sequence[_RowInv]) -> list[_RowInv]:
        """Those of `rows` (the first rows of a query that `query` refines) that match."""
        ...


class SelectableSource(PageSource[_RowInv, _QueryContra], Protocol):
    """A source whose rows can be selected: it lists the ids of a query's rows."""

    def ids(self, query: _QueryContra) -> list[int]:
        """Every id matching the query (for select-all and invert)."""
        ...


@dataclass(frozen=True)
class Column:
    """A column of a table: `key` names it, `sort` is the sort key a click on its
    header applies (None: not sortable)."""

    key: str
    label: str
    width: int
    sort: str | None = None

    @property
    def gap(self) -> int:
        """Cells after the column: one space, none after the selection mark."""
        return 0 if self.key == MARK_KEY else 1


__all__ = [
    "MARK_KEY",
    "Column",
    "Identified",
    "PageSource",
    "QueryT",
    "RowT",
    "SelectableSource",
    "WidgetOptions",
]
