"""Window paging shared by the repositories' `page()` methods."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, NamedTuple, Protocol, TypeVar

from session_tui.data.search import refines


class _Query(Protocol):
    """What a screen's query is: a dataclass with the search box's text."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def search(self) -> str: ...


Q = TypeVar("Q", bound=_Query)


class Window(NamedTuple):
    """What to read: `limit` rows from `offset`, in reverse order if `reverse`."""

    offset: int
    limit: int
    reverse: bool


def plan_window(offset: int, limit: int, total: int | None) -> Window | None:
    """Rows [offset, offset+limit) of an order; None when there is nothing to read.

    With `total` known and the window in the second half, the window is read in the
    reverse order (the caller flips the rows back), so that the database skips at
    most half of the rows: End is as cheap as Home.
    """
    offset = max(0, offset)
    if limit <= 0:
        return None
    if total is None or offset <= total // 2:
        return Window(offset, limit, False)
    end = min(total, offset + limit)
    if end - offset <= 0:
        return None
    return Window(total - end, end - offset, True)


def narrows(old: Q, new: Q) -> bool:
    """True when `new` is `old` with a narrower search, all else equal (filter,
    order…): its matches are some of `old`'s, in the same order, so the first rows
    of `new` are the rows among `old`'s first rows that match it (the repositories'
    `refine`)."""
    return replace(old, search="") == replace(new, search="") and refines(old.search, new.search)
