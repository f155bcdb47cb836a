"""The filter model: conditions (`conditions.py`) combined in groups (AND / OR), one
level of nesting.

A filter is a root `Group`. Its items are `Condition`s and nested `Group`s whose
items are only conditions. Every `Condition` is valid by construction (see
`conditions.py`), so code that receives a filter never has to re-check it.

A group compiles itself to SQL (`where`, `count_statement`: `compile.py`) and prints
itself (`str()`: `printing.py`); those modules read groups through
`conditions.GroupLike`, so nothing imports this module back. The names of
`conditions.py` are importable from here too (the package offers both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select

from session_tui.data.filters.compile import compile_where, membership_count
from session_tui.data.filters.conditions import *  # noqa: F403 - re-exported: see the module doc
from session_tui.data.filters.conditions import Condition, FieldName, FilterError, Mode
from session_tui.data.filters.printing import to_text

__all__ = ["EMPTY", "Group", "normalize"]


@dataclass(frozen=True)
class Group:
    """Conditions combined with AND or OR. The root group may hold nested groups
    (one level: a nested group holds only conditions). An empty group matches
    every contact."""

    mode: Mode = Mode.AND
    items: tuple[Condition | Group, ...] = field(default=())

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", Mode(self.mode))
        except ValueError as exc:
            raise FilterError(str(exc)) from None
        items = tuple(self.items)
        for item in items:
            if not isinstance(item, Condition | Group):
                raise FilterError(f"a group holds conditions and groups, not {type(item).__name__}")
        object.__setattr__(self, "items", items)

    # -- structure -------------------------------------------------------------
    @property
    def depth(self) -> int:
        """0 = only conditions, 1 = has nested groups, 2+ = too deep."""
        inner = [item.depth for item in self.items if isinstance(item, Group)]
        return 1 + max(inner) if inner else 0

    def check(self) -> Group:
        """Raise FilterError unless nesting is at most one level; return self."""
        if self.depth > 1:
            raise FilterError("groups can be nested only one level deep")
        return self

    @property
    def is_empty(self) -> bool:
        return not self.conditions()

    def conditions(self) -> list[Condition]:
        """Every condition, depth first."""
        out: list[Condition] = []
        for item in self.items:
            if isinstance(item, Group):
                out.extend(item.conditions())
            else:
                out.append(item)
        return out

    def products(self) -> list[str]:
        """The product names this filter mentions (for checking they exist)."""
        seen: dict[str, str] = {}
        for c in self.conditions():
            if c.field is FieldName.PRODUCT:
                seen.setdefault(c.value.lower(), c.value)
        return list(seen.values())

    # -- SQL -------------------------------------------------------------------
    def where(
        self, dialect: str, now: datetime, *, walk_order_index: bool = False
    ) -> ColumnElement[bool]:
        """The WHERE clause on `contact` (see compile.py); satisfies ContactQuery.filter."""
        return compile_where(self, dialect, now, walk_order_index=walk_order_index)

    def count_statement(self, dialect: str, now: datetime) -> Select[Any] | None:
        """The count of matching contacts read from `membership` alone, when the filter
        is one membership condition (see compile.membership_count); else None."""
        return membership_count(self, dialect, now)

    def normalized(self) -> Group:
        """`normalize(self)`."""
        return normalize(self)

    def __str__(self) -> str:
        return to_text(self)


EMPTY = Group()


def normalize(group: Group) -> Group:
    """The canonical shape of a filter (what the text form expresses exactly):
    empty nested groups dropped, one-item nested groups unwrapped, a root holding
    a single nested group becomes that group, a root of one condition is an AND
    group. Raises FilterError when groups nest more than one level."""
    group.check()
    items: list[Condition | Group] = []
    for item in group.items:
        if isinstance(item, Group):
            if not item.items:
                continue
            if len(item.items) == 1:
                items.append(item.items[0])
                continue
        items.append(item)
    if len(items) == 1 and isinstance(items[0], Group):
        return items[0]
    if len(items) <= 1:
        return Group(Mode.AND, tuple(items))
    return Group(group.mode, tuple(items))
