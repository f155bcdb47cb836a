"""Selection: which rows of a table are selected, by id (no Textual here).

The ids survive scrolling, sorting and query changes: a row keeps its selection
when a search hides it (`hidden` counts those). Select-all and invert work on every
row matching the query, which only the database knows: `begin` marks the selection
`pending` and hands out a snapshot; the table reads the matching ids in a worker and
calls `finish` with them. If the user changed the selection meanwhile, the operation
is applied to the current selection instead of the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from enum import Enum


class SelectOp(Enum):
    """What a select-all style operation does with the ids matching the query."""

    SELECT_ALL = "select"  # add them all
    INVERT = "invert"  # select those not selected, unselect those selected

    def apply(self, selection: set[int], ids: Iterable[int]) -> None:
        if self is SelectOp.SELECT_ALL:
            selection.update(ids)
        else:
            selection.symmetric_difference_update(ids)


@dataclass(frozen=True)
class Pending:
    """A select-all or invert under way: the selection as it was when it started."""

    op: SelectOp
    version: int
    snapshot: frozenset[int]


class Selection:
    """Selected ids, a version counter that every change bumps, the pending state of a
    select-all / invert, and how many selected ids the current query hides."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self.version = 0
        self.pending = False
        # selected ids the query does not match; None while being counted
        self.hidden: int | None = 0

    # -- reading ---------------------------------------------------------------------
    @property
    def ids(self) -> Set[int]:
        """A read-only view of the selected ids."""
        return self._ids

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def frozen(self) -> frozenset[int]:
        return frozenset(self._ids)

    # -- changing ----------------------------------------------------------------------
    def _changed(self) -> None:
        self.version += 1
        if not self._ids:
            self.hidden = 0

    def toggle(self, row_id: int, select: bool | None = None) -> None:
        """Select or unselect one id (`select` None: flip it)."""
        want = (row_id not in self._ids) if select is None else select
        if want:
            self._ids.add(row_id)
        else:
            self._ids.discard(row_id)
        self._changed()

    def add(self, ids: Iterable[int]) -> None:
        self._ids.update(ids)
        self._changed()

    def discard(self, ids: Iterable[int]) -> None:
        self._ids.difference_update(ids)
        self._changed()

    def replace(self, ids: set[int], *, hidden: int | None) -> None:
        """The selection becomes `ids` (taken, not copied)."""
        self._ids = ids
        self.version += 1
        self.hidden = hidden

    def clear(self) -> None:
        self.replace(set(), hidden=0)

    # -- select-all and invert ------------------------------------------------------------
    def begin(self, op: SelectOp) -> Pending:
        self.pending = True
        return Pending(op, self.version, frozenset(self._ids))

    def compute(self, pending: Pending, ids: Iterable[int]) -> set[int]:
        """The selection `pending`'s operation makes of its snapshot (any thread)."""
        result = set(pending.snapshot)
        pending.op.apply(result, ids)
        return result

    def finish(self, pending: Pending, ids: list[int], result: set[int]) -> None:
        """Apply a finished operation: `result` (from `compute`) if nothing changed
        since it began, else the operation on the current selection. Select-all and
        invert work within the query: the hidden part is unchanged."""
        self.pending = False
        if pending.version == self.version:
            new = result
        else:
            new = set(self._ids)
            pending.op.apply(new, ids)
        self.replace(new, hidden=self.hidden if new else 0)

    def fail(self) -> None:
        """The operation could not read the ids: the selection stays as it is."""
        self.pending = False


__all__ = ["Pending", "SelectOp", "Selection"]
