"""PageLoader: the paging engine under PagedTable (table.py).

It keeps the count of the query's rows, the total, a few cached pages around the
viewport and the cursor index, and reads from a `PageSource` in thread workers:

- a (re)load reads the count and the pages of the window (and the cursor's); when
  the query changed, the first page comes first (`source.count_and_page`), with the
  count when the source gets it in the same pass; else the first rows are painted
  before the count arrives (for a one-letter search at a million rows the count is
  a full scan);
- typing on in the search box: when the new query only narrows the one on screen
  (`source.refines`), its first rows are those of the rows on screen that match it
  (`source.refine`), painted at once; first page and count are then read for real;
- scrolling reads the missing pages nearest the viewport first and forgets the
  farthest ones beyond `MAX_CACHED_PAGES`.

Results come back as messages, handled on the UI thread; a result of a superseded
load (an older `generation`) is dropped. What the table does with them is up to
the hooks `_loaded`, `_after_load`, `_page_arrived`, `_load_failed`.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic

from textual import events, work
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.worker import get_current_worker

from session_tui.data.db import allow_reads, describe_error, stop_reads
from session_tui.ui.widgets.paged_table.source import PageSource, QueryT, RowT, WidgetOptions

if TYPE_CHECKING:
    from typing_extensions import Unpack

PAGE_SIZE = 100
# At most this long (s) the start's first count waits for its first rows to be painted.
FIRST_COUNT_WAIT = 1.0
# At most this long (s) a (re)load waits for the loads it supersedes to stop (their
# reads are interrupted): it then reads on the connection they give back, instead of
# a second one with a page cache of its own.
SUPERSEDED_WAIT = 0.25
MAX_CACHED_PAGES = 12


@dataclass
class _Reloaded(Message, Generic[RowT, QueryT], namespace="paged_table"):
    generation: int
    query: QueryT
    count: int
    total: int
    pages: dict[int, list[RowT]]
    keep_cursor: bool
    counting: bool = False


@dataclass
class _PageLoaded(Message, Generic[RowT], namespace="paged_table"):
    generation: int
    page: int
    rows: list[RowT]


@dataclass
class _Failed(Message, namespace="paged_table"):
    message: str


class PageLoader(ScrollView, Generic[RowT, QueryT]):
    """Count, total, cached pages and cursor of a query, read in thread workers."""

    def __init__(
        self,
        source: PageSource[RowT, QueryT],
        query: QueryT,
        **widget: Unpack[WidgetOptions],
    ) -> None:
        super().__init__(**widget)
        self.source = source
        self._query = query
        self._shown_query = query
        self._generation = 0  # latest requested (re)load
        self._shown_generation = -1  # whose data is on screen
        self._count: int | None = None
        self._total: int | None = None
        self._pages: dict[int, list[RowT]] = {}
        self._inflight: frozenset[int] = frozenset()
        self._cursor = 0
        self._loaded_once = False
        self._counting = False  # first rows shown, real count still being read
        self._stale_empty = False  # "no rows" on screen is being re-read (see reload)
        # Set once the rows of a first read made at the app's start are painted.
        self._first_rows_painted = threading.Event()
        # The (re)loads running now, by generation: their thread, and set when done.
        self._reloads: dict[int, tuple[int, threading.Event]] = {}
        self._reloads_lock = threading.Lock()

    # -- what the table decides (query knowledge and notifications) ---------------------
    @abstractmethod
    def matches_all(self, query: QueryT) -> bool:
        """True when the query matches every row (no search text, no filter)."""

    @abstractmethod
    def same_matches(self, old: QueryT, new: QueryT) -> bool:
        """True when the queries match the same rows (only the order may differ)."""

    def _loaded(self, count: int, total: int, counting: bool) -> None:
        """New count and rows are in (cursor and scroll already set)."""

    def _after_load(self, query_changed: bool, keep_cursor: bool, counting: bool) -> None:
        """After `_loaded`, once the missing pages have been asked for."""

    def _page_arrived(self, page: int) -> None:
        """A page of the rows on screen arrived."""

    def _load_failed(self, message: str) -> None:
        """Reading failed; `message` is plain text for the user."""

    def _post_failed(self, exc: Exception) -> None:
        """Report a failed read from a worker thread (handled as `_load_failed`)."""
        self.post_message(_Failed(describe_error(exc)))

    def _take_first_read(self, query: QueryT) -> Future[tuple[int | None, list[RowT]]] | None:
        """The first read of `query` (`source.count_and_page(query, 0, PAGE_SIZE)`) when
        it was started before this table existed (the app's start, see
        `ui.widgets.contacts.table.start_first_read`); None: the loader reads it."""
        return None

    # -- reading the state -------------------------------------------------------------
    def on_mount(self) -> None:
        self._request_reload(keep_cursor=False)

    @property
    def count(self) -> int | None:
        """How many rows match the query (None until the first load is in)."""
        return self._count

    @property
    def total(self) -> int | None:
        """How many rows there are in all (None until the first load is in)."""
        return self._total

    @property
    def is_loading(self) -> bool:
        """True until the rows AND the count of the latest query are in."""
        return self._shown_generation != self._generation or self._counting

    @property
    def rows_ready(self) -> bool:
        """The latest query's first rows are on screen (its count may still be coming)."""
        return self._shown_generation == self._generation

    def row_at(self, index: int) -> RowT | None:
        """The row at `index` of the query's order if it is loaded, else None."""
        if self._count is None or not 0 <= index < self._count:
            return None
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        offset = index % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def reload(self) -> None:
        """Re-read the count and the visible rows (after the database changed).

        When the table shows no rows (e.g. right after deleting every match), there is
        no cursor or scroll position to keep: the first rows are read and shown before
        the count (which takes seconds at a million rows), and until they come the
        table says "Loading…" instead of the stale "no rows match" message."""
        if self._count == 0 and not self.is_loading:
            self._stale_empty = True
            self.refresh()
            self._request_reload(keep_cursor=False, fresh=True)
        else:
            self._request_reload(keep_cursor=True)

    # -- geometry ----------------------------------------------------------------------
    @property
    def body_height(self) -> int:
        """How many rows fit (the first line is the header)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        body = self.body_height
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + body:
            self.scroll_to(y=self._cursor - body + 1, animate=False)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, (self._count or 0) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._ensure_pages()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.is_mounted:
            self._ensure_pages()

    # -- loading -----------------------------------------------------------------------
    def _request_reload(self, *, keep_cursor: bool, fresh: bool = False) -> None:
        """`fresh`: the database changed -- nothing known about the old count or total
        or rows is reused (only the cursor goes back to the top)."""
        self._generation += 1
        if keep_cursor:
            first = round(self.scroll_y)
            cursor = self._cursor
        else:
            first = 0
            cursor = 0
        rows = self.body_height if self.is_mounted else 50
        # Only the order changed: the count cannot have changed either.
        known: tuple[int, int] | None = None
        shown = self._shown_query
        if (
            not keep_cursor
            and not fresh
            and self._count is not None
            and self._total is not None
            and self.same_matches(shown, self._query)
        ):
            known = (self._count, self._total)
        # A new search/filter does not change how many rows there are in all.
        known_total = None if keep_cursor or fresh else self._total
        # Typing on in the search box: the first rows on screen may already hold the
        # first rows of the new search (see PageSource.refine).
        prior: tuple[tuple[RowT, ...], bool] | None = None
        first_page = self._pages.get(0)
        if (
            not keep_cursor
            and not fresh
            and known is None
            and first_page
            and self._shown_generation >= 0
            and self.source.refines(shown, self._query)
        ):
            # complete: the page holds every match of the old query
            complete = (
                not self._counting and self._count is not None and (self._count <= len(first_page))
            )
            prior = (tuple(first_page), complete)
        first_read = None
        if self._shown_generation < 0 and not keep_cursor and known is None and prior is None:
            first_read = self._take_first_read(self._query)
        self._reload_worker(
            self._generation,
            self._query,
            first,
            cursor,
            rows,
            keep_cursor,
            known,
            known_total,
            prior,
            first_read,
        )
        self._stop_superseded(self._generation)  # they are cancelled by now

    @work(thread=True, exclusive=True, group="paged-table-reload")
    def _reload_worker(
        self,
        generation: int,
        query: QueryT,
        first: int,
        cursor: int,
        rows: int,
        keep_cursor: bool,
        known: tuple[int, int] | None,
        known_total: int | None = None,
        prior: tuple[tuple[RowT, ...], bool] | None = None,
        first_read: Future[tuple[int | None, list[RowT]]] | None = None,
    ) -> None:
        worker = get_current_worker()
        with self._registered_load(generation):
            if worker.is_cancelled:
                return
            source = self.source
            pages: dict[int, list[RowT]] = {}

            def provisional(first_rows: list[RowT], total: int) -> None:
                """Paint the first rows now; the count follows."""
                self.post_message(
                    _Reloaded(
                        generation,
                        query,
                        len(first_rows),
                        total,
                        {0: first_rows},
                        keep_cursor,
                        counting=True,
                    )
                )

            def total_for(count: int) -> int:
                if self.matches_all(query):
                    return count
                return known_total if known_total is not None else source.total()

            try:
                painted = False
                if prior is not None:
                    # The new search narrows the one on screen: its first rows are those
                    # of the rows on screen that match it. Paint them now if they fill the
                    # window (or are all there is); count and page 0 are then read for real.
                    first_rows = source.refine(query, prior[0])
                    if worker.is_cancelled:
                        return
                    if len(first_rows) >= rows or prior[1]:
                        provisional(
                            first_rows, known_total if known_total is not None else len(first_rows)
                        )
                        painted = True
                if known is not None:
                    count, total = known
                elif keep_cursor:
                    count = source.count(query)
                    total = total_for(count)
                else:
                    # The first page, with the count when the source gets it in the same
                    # pass (see PageSource.count_and_page); a short page *is* the count.
                    counted, pages[0] = _first_page(source, query, first_read)
                    if worker.is_cancelled:
                        return
                    if counted is None and len(pages[0]) < PAGE_SIZE:
                        counted = len(pages[0])
                    if counted is None:
                        if not painted:
                            # Paint the first rows now; the count follows (for a one- or
                            # two-letter search it is a full scan; at start, count(*)).
                            provisional(
                                pages[0], known_total if known_total is not None else len(pages[0])
                            )
                        if first_read is not None:
                            # The app's start: the count (a scan of the table) waits until
                            # those rows are painted, as it did when this worker read them
                            # (on a busy machine it takes the CPU from the first frame).
                            self._first_rows_painted.wait(FIRST_COUNT_WAIT)
                            if worker.is_cancelled:
                                return
                        counted = source.count(query)
                    count = counted
                    total = total_for(count)
                first = max(0, min(first, count - rows))
                wanted = set(range(first // PAGE_SIZE, (first + rows) // PAGE_SIZE + 1))
                wanted.add(min(cursor, max(0, count - 1)) // PAGE_SIZE)
                for page in sorted(wanted):
                    if worker.is_cancelled:
                        return
                    if page in pages or page * PAGE_SIZE >= count:
                        continue
                    pages[page] = source.page(query, page * PAGE_SIZE, PAGE_SIZE, total=count)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
                if not worker.is_cancelled:
                    self._post_failed(exc)
                return
            if not worker.is_cancelled:
                self.post_message(_Reloaded(generation, query, count, total, pages, keep_cursor))

    @contextmanager
    def _registered_load(self, generation: int) -> Iterator[None]:
        """The (re)load `generation` registered as running in this thread for the
        block, which starts once the older ones still running (superseded: their
        reads are being stopped) have finished, or after `SUPERSEDED_WAIT`."""
        with self._reloads_lock:
            self._reloads[generation] = (threading.get_ident(), threading.Event())
            older = [done for g, (_t, done) in self._reloads.items() if g < generation]
        try:
            deadline = time.monotonic() + SUPERSEDED_WAIT
            for done in older:
                done.wait(max(0.0, deadline - time.monotonic()))
            yield
        finally:
            with self._reloads_lock:
                entry = self._reloads.pop(generation)
                allow_reads(threading.get_ident())  # the pool's thread goes on to other work
            entry[1].set()

    def _stop_superseded(self, generation: int) -> None:
        """Stop the reads of the (re)loads older than `generation` (UI thread): their
        results would be dropped, and a count at a million rows reads for seconds.
        The one running is interrupted, and any they would begin is refused, until
        each has finished. Under the lock, so a thread that has moved on to other
        work is not touched (a load unregisters, and lets its thread read again,
        before the thread is free)."""
        with self._reloads_lock:
            for g, (thread, _done) in self._reloads.items():
                if g < generation:
                    stop_reads(thread)

    def on_paged_table__reloaded(self, message: _Reloaded[RowT, QueryT]) -> None:
        message.stop()
        if message.generation != self._generation:
            return  # superseded by a newer query
        keep_cursor = message.keep_cursor
        if self._counting and message.generation == self._shown_generation:
            # The real count after the provisional first page: keep where the user is.
            keep_cursor = True
        self._counting = message.counting
        self._stale_empty = False
        query_changed = message.query != self._shown_query or not self._loaded_once
        self._shown_generation = message.generation
        self._shown_query = message.query
        self._count = message.count
        self._total = message.total
        self._pages = dict(message.pages)
        self._inflight = frozenset()
        self._loaded_once = True
        self._update_virtual_size()
        if keep_cursor:
            self._cursor = max(0, min(self._cursor, message.count - 1))
        else:
            self._cursor = 0
            self.scroll_to(y=0, animate=False)
        self._scroll_cursor_into_view()
        self._loaded(message.count, message.total, message.counting)
        if message.counting and not self._first_rows_painted.is_set():
            self.call_after_refresh(self._first_rows_painted.set)
        self._ensure_pages()
        self._after_load(query_changed, keep_cursor, message.counting)

    def on_paged_table__failed(self, message: _Failed) -> None:
        message.stop()
        if self._stale_empty:
            self._stale_empty = False
            self.refresh()
        self._load_failed(message.message)

    def _wanted_pages(self) -> list[int]:
        count = self._count or 0
        if count == 0:
            return []
        top = round(self.scroll_y)
        body = self.body_height
        first = max(0, top - body // 2)
        last = min(count - 1, top + body + body // 2)
        pages = list(range(first // PAGE_SIZE, last // PAGE_SIZE + 1))
        cursor_page = self._cursor // PAGE_SIZE
        if cursor_page not in pages:
            pages.append(cursor_page)
        # visible pages first
        visible = top // PAGE_SIZE
        pages.sort(key=lambda p: abs(p - visible))
        return pages

    def _ensure_pages(self) -> None:
        if self._count is None or self._shown_generation < 0:
            return
        wanted = self._wanted_pages()
        missing = [p for p in wanted if p not in self._pages]
        self._evict(wanted)
        if not missing or set(missing) <= self._inflight:
            return
        self._inflight = frozenset(missing)
        self._page_worker(self._shown_generation, self._shown_query, missing, self._count)

    def _evict(self, wanted: list[int]) -> None:
        if len(self._pages) <= MAX_CACHED_PAGES:
            return
        centre = wanted[0] if wanted else 0
        keep = set(wanted)
        for page in sorted(self._pages, key=lambda p: -abs(p - centre)):
            if len(self._pages) <= MAX_CACHED_PAGES:
                break
            if page not in keep:
                del self._pages[page]

    @work(thread=True, exclusive=True, group="paged-table-pages")
    def _page_worker(self, generation: int, query: QueryT, pages: list[int], count: int) -> None:
        worker = get_current_worker()
        for page in pages:
            if worker.is_cancelled:
                return
            try:
                rows = self.source.page(query, page * PAGE_SIZE, PAGE_SIZE, total=count)
            except Exception as exc:  # noqa: BLE001
                self._post_failed(exc)
                return
            self.post_message(_PageLoaded(generation, page, rows))

    def on_paged_table__page_loaded(self, message: _PageLoaded[RowT]) -> None:
        message.stop()
        self._inflight = self._inflight - {message.page}
        if message.generation != self._shown_generation:
            return
        self._pages[message.page] = message.rows
        self._page_arrived(message.page)


__all__ = ["MAX_CACHED_PAGES", "PAGE_SIZE", "PageLoader"]


def _first_page(
    source: PageSource[RowT, QueryT],
    query: QueryT,
    first_read: Future[tuple[int | None, list[RowT]]] | None,
) -> tuple[int | None, list[RowT]]:
    """`source.count_and_page(query, 0, PAGE_SIZE)`, or the same read started earlier;
    if that one failed, it is read again here (a failure is then reported as usual)."""
    if first_read is not None:
        try:
            return first_read.result()
        except Exception:  # noqa: BLE001 - read again below, reported from there
            pass
    return source.count_and_page(query, 0, PAGE_SIZE)
