"""Window paging shared by the repositories' `page()` methods."""

from __future__ import annotations

from typing import NamedTuple


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
