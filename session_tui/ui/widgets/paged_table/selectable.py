"""SelectablePagedTable: a PagedTable whose rows can be selected, by id.

The selection (a `Selection`, selection.py) survives scrolling, sorting and query
changes. Select-all and invert read every id matching the query from the source
(`SelectableSource.ids`) in a worker; meanwhile the selection is `pending`. When a
search or filter hides some selected rows, `hidden_selected` says how many (None
while that is being counted).

Public interface (on top of PagedTable's):
- `table.selection` (a read-only set view), `table.selected_ids() -> frozenset[int]`,
  `table.ids_for_action()` (the selected ids, or the current row's id when nothing
  is selected), `table.hidden_selected`, `table.selection_pending`,
  `table.clear_selection()`, `table.select_ids(ids)`, `table.discard_ids(ids)` (call
  it with the ids you deleted).
- Message `SelectionChanged(table, selected, hidden, pending)`.
- Actions for key bindings: toggle_select (and move down), extend_down, extend_up,
  select_all, invert_selection, clear_selection.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic

from textual import work
from textual.message import Message
from textual.reactive import var
from textual.worker import get_current_worker

from session_tui.ui.widgets.paged_table.selection import Pending, Selection, SelectOp
from session_tui.ui.widgets.paged_table.source import (
    QueryT,
    RowT,
    SelectableSource,
)
from session_tui.ui.widgets.paged_table.table import PagedTable, TableMessage

if TYPE_CHECKING:
    pass


@dataclass
class _SelectionComputed(Message, namespace="paged_table"):
    pending: Pending
    ids: list[int]
    result: set[int] | None  # None: reading the ids failed


@dataclass
class _HiddenComputed(Message, namespace="paged_table"):
    generation: int
    version: int
    hidden: int


class SelectablePagedTable(PagedTable[RowT, QueryT], Generic[RowT, QueryT]):
    """A PagedTable with a selection of rows (by id)."""

    @dataclass(eq=False)
    class SelectionChanged(TableMessage):
        """The selection changed (or how many of it the query hides)."""

        selected: int
        """How many rows are selected."""
        hidden: int | None
        """How many of them the current query hides; None until that is counted."""
        pending: bool
        """True while "select all matching" is still reading the ids."""

    source: SelectableSource[RowT, QueryT]
    """Where the rows come from; it also lists the ids of a query (select all, invert)."""
    _selection: var[Selection] = var(Selection, init=False)  # a new Selection per table

    # -- public interface --------------------------------------------------------------
    @property
    def selection(self) -> Set[int]:
        """The selected ids (read-only view; use the methods to change it)."""
        return self._selection.ids

    def selected_ids(self) -> frozenset[int]:
        return self._selection.frozen()

    def ids_for_action(self) -> frozenset[int]:
        """The selected ids, or the current row's id when nothing is selected."""
        if self._selection:
            return self._selection.frozen()
        row = self.current_row
        return frozenset() if row is None else frozenset({row.id})

    @property
    def hidden_selected(self) -> int | None:
        return self._selection.hidden

    @property
    def selection_pending(self) -> bool:
        return self._selection.pending

    def clear_selection(self) -> None:
        self._set_selection(set(), hidden=0)

    def select_ids(self, ids: Iterable[int]) -> None:
        self._selection.add(ids)
        self._selection_changed()

    def discard_ids(self, ids: Iterable[int]) -> None:
        """Forget ids (e.g. deleted rows) from the selection."""
        self._selection.discard(ids)
        self._selection_changed(recompute_hidden=True)

    # -- PagedTable hooks ------------------------------------------------------------------
    def _is_selected(self, row: RowT) -> bool:
        return row.id in self._selection

    def _after_load(self, query_changed: bool, keep_cursor: bool, counting: bool) -> None:
        super()._after_load(query_changed, keep_cursor, counting)
        if (query_changed or keep_cursor) and not counting:
            self._recompute_hidden()

    # -- changes -------------------------------------------------------------------------------
    def _set_selection(self, new: set[int], *, hidden: int | None) -> None:
        self._selection.replace(new, hidden=hidden)
        self.refresh()
        self._post_selection()

    def _selection_changed(self, *, recompute_hidden: bool = False) -> None:
        if self._selection and recompute_hidden:
            self._recompute_hidden()
        self.refresh()
        self._post_selection()

    def _post_selection(self) -> None:
        selection = self._selection
        self.post_message(
            self.SelectionChanged(self, len(selection), selection.hidden, selection.pending)
        )

    # -- how many selected rows the query hides ------------------------------------------------
    def _recompute_hidden(self) -> None:
        if not self._selection or self.matches_all(self._shown_query):
            self._selection.hidden = 0
            self._post_selection()
            return
        self._selection.hidden = None
        self._post_selection()
        self._hidden_worker(self._shown_generation, self._shown_query, self._selection.version)

    @work(thread=True, exclusive=True, group="paged-table-hidden")
    def _hidden_worker(self, generation: int, query: QueryT, version: int) -> None:
        worker = get_current_worker()
        selection = self._selection.ids  # read-only here; membership tests only
        size = len(selection)
        try:
            ids = self.source.ids(query)
        except Exception as exc:  # noqa: BLE001
            self._post_failed(exc)
            return
        visible = sum(1 for i in ids if i in selection)
        if not worker.is_cancelled:
            self.post_message(_HiddenComputed(generation, version, max(0, size - visible)))

    def on_paged_table__hidden_computed(self, message: _HiddenComputed) -> None:
        message.stop()
        if message.generation != self._shown_generation:
            return
        if message.version != self._selection.version:
            self._recompute_hidden()
            return
        self._selection.hidden = message.hidden
        self._post_selection()

    # -- actions ---------------------------------------------------------------------------------
    def _toggle(self, index: int, *, select: bool | None = None) -> None:
        row = self.row_at(index)
        if row is None:
            return
        self._selection.toggle(row.id, select)
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
        self._start_ids_op(SelectOp.SELECT_ALL)

    def action_invert_selection(self) -> None:
        self._start_ids_op(SelectOp.INVERT)

    def action_clear_selection(self) -> None:
        if self._selection:
            self.clear_selection()

    # -- select-all and invert -----------------------------------------------------------------
    def _start_ids_op(self, op: SelectOp) -> None:
        if not self._count:
            return
        pending = self._selection.begin(op)
        self._post_selection()
        self._ids_worker(pending, self._shown_query)

    @work(thread=True, exclusive=True, group="paged-table-ids")
    def _ids_worker(self, pending: Pending, query: QueryT) -> None:
        worker = get_current_worker()
        try:
            ids = self.source.ids(query)
        except Exception as exc:  # noqa: BLE001
            self._post_failed(exc)
            self.post_message(_SelectionComputed(pending, [], None))
            return
        result = self._selection.compute(pending, ids)
        if not worker.is_cancelled:
            self.post_message(_SelectionComputed(pending, ids, result))

    def on_paged_table__selection_computed(self, message: _SelectionComputed) -> None:
        message.stop()
        if message.result is None:
            self._selection.fail()
            self._post_selection()
            return
        self._selection.finish(message.pending, message.ids, message.result)
        self.refresh()
        self._post_selection()


__all__ = ["SelectablePagedTable"]
