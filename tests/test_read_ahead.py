"""read_ahead: a backup's entries read by a worker thread ahead of the restore."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from session_tui.data.deletion.read_ahead import read_ahead


def test_every_item_comes_through_in_order() -> None:
    assert list(read_ahead(iter(range(2_345)), chunk=100, depth=2)) == list(range(2_345))
    assert list(read_ahead(iter([]), chunk=10)) == []


def test_an_error_comes_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield from range(25)
        raise ValueError("line 26 is damaged")

    got: list[int] = []
    with pytest.raises(ValueError, match="line 26 is damaged"):
        for item in read_ahead(items(), chunk=10, depth=1):
            got.append(item)
    assert got == list(range(25))


def test_leaving_early_stops_the_worker_and_closes_the_source() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def items() -> Iterator[int]:
        try:
            for i in range(1_000_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    ahead = read_ahead(items(), chunk=10, depth=2)
    assert [next(ahead) for _ in range(5)] == [0, 1, 2, 3, 4]
    ahead.close()
    assert closed.is_set()  # close() waits for the worker, which closed the source
    assert len(produced) <= 10 * 4  # at most a few chunks were read ahead, not the rest
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())
