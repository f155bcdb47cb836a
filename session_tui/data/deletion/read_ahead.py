"""Reading a backup file ahead of the restore that consumes it.

Decoding and validating a backup (backup_format.read_entries: JSON, the same checks
as import, the sort keys) is pure Python, and so is about a quarter of a restore;
the rest is the database taking the rows in. `read_ahead(items)` runs the reading in
a worker thread a few chunks ahead, so that it goes on while the database works on
the previous batch (the drivers give up the GIL while they wait on the server or
on SQLite).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

CHUNK = 500  # items handed over at a time
# Chunks the worker may run ahead: it bounds the memory it holds. Two chunks are one
# restore batch (restore.BATCH, 1,000 contacts): the next batch is read while the
# database takes this one, the overlap that makes reading ahead pay. More only holds
# more parsed rows at once (20 held 10,000 contacts' dicts and strings, whose Python
# arenas stayed with the process after an undo: docs/performance.md, "Memory after
# delete and undo, third round").
DEPTH = 2
_POLL = 0.1  # seconds between the worker's looks at the stop flag while the queue is full


def read_ahead(
    items: Iterator[T], chunk: int = CHUNK, depth: int = DEPTH
) -> Generator[T, None, None]:
    """What `items` yields, in order, produced by a worker thread up to `depth` chunks
    of `chunk` ahead. An exception `items` raises is raised here, after the items it
    yielded before it: where the caller would have met it. Closing this generator
    (or leaving a `for` over it early) stops the worker and closes `items`."""
    handed: queue.Queue[tuple[list[T], BaseException | None, bool]] = queue.Queue(depth)
    stop = threading.Event()

    def put(entry: tuple[list[T], BaseException | None, bool]) -> bool:
        while not stop.is_set():
            try:
                handed.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        buffer: list[T] = []
        try:
            for item in items:
                buffer.append(item)
                if len(buffer) >= chunk:
                    if not put((buffer, None, False)):
                        return
                    buffer = []
            put((buffer, None, True))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((buffer, exc, True))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            batch, error, last = handed.get()
            yield from batch
            if error is not None:
                raise error
            if last:
                return
    finally:
        stop.set()
        worker.join()
