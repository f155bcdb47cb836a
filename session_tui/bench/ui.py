"""Driving the real app headless (`App.run_test`) and timing what the screen shows.

The signal "the screen shows the new rows"
------------------------------------------
Textual paints through `App._display(screen, update)`: the screen's compositor
has just rendered the dirty widgets (`ContactsTable.render_line` for every
visible line) into `update` (None when nothing on screen differs); a real
terminal driver would now write it out (headless, nothing is written).
`PaintProbe` wraps `_display` on the app instance and, after every paint,
evaluates a condition on the widgets' state -- which is exactly the state that
paint rendered. The time of the
first paint for which the condition holds is the time the user would see it.

The condition for "the rows are on screen" uses the table's public interface:
`table.rows_ready` (the rows of the current query have arrived),
`table.count`, `table.row_at(i)` for every visible index
(`round(scroll_y)` .. `+ body_height`). A row still being read renders as
"…", so a window whose rows are all loaded is a window painted with rows.

Keys are sent the way `Pilot.press` sends them (`driver.send_message(Key)`),
without Pilot's waits, so that the clock starts at the key press.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.widgets import Input

from session_tui.bench.context import NotBuilt
from session_tui.data.search import normalize_term

T = TypeVar("T")
SCREEN_SIZE = (120, 40)
TIMEOUT = 60.0  # seconds; a figure that takes longer is broken, not slow

# Search terms typed into the search box (the last keystroke of each is timed):
# names, parts of emails, domains, a two-word name, two-letter terms (no trigram
# index: a scan), digits, non-Latin and accented text, and terms matching nothing.
SEARCH_TERMS: tuple[str, ...] = (
    "ann",
    "smith",
    "gmail",
    "jose",
    "o'brien",
    "müller",
    "chen",
    "patel",
    "kowal",
    "yahoo",
    "proton.me",
    "ann smith",
    "li",
    "kim",
    "jean-luc",
    "nguy",
    "sara",
    "ivanov",
    "example",
    "mar",
    "david wilson",
    "123",
    "ελένη",
    "zzz",
    "qqqxyz",
)


def make_app(url: str) -> App[Any]:
    try:
        from session_tui.ui.app import make_app as project_make_app
    except ImportError as exc:
        raise NotBuilt("not built yet") from exc
    return project_make_app(db_url=url)


def contacts_table(app: App[Any]) -> Any:
    """The Contacts screen's table, or None while it is not mounted."""
    from session_tui.ui.widgets.contacts.table import ContactsTable

    try:
        return app.screen.query_one(ContactsTable)
    except Exception:  # noqa: BLE001 - not composed yet, another screen on top, ...
        return None


def window_ready(table: Any) -> bool:
    """The rows of the current query for the visible window are all loaded."""
    if table is None or not table.rows_ready or table.count is None:
        return False
    count = int(table.count)
    top = round(table.scroll_y)
    end = min(count, top + int(table.body_height))
    return all(table.row_at(i) is not None for i in range(top, end))


@dataclass
class PaintProbe:
    """Records the first paint at which `condition()` holds (see the module doc)."""

    app: App[Any]
    condition: Callable[[], bool] | None = None
    hit_at: float | None = None
    paints: int = 0
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def install(self) -> None:
        original = self.app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if self.app._batch_count:
                return  # nothing was painted
            # `renderable is None`: the compositor re-rendered the dirty widgets and
            # found nothing different on screen -- the screen already shows the state.
            self.paints += renderable is not None
            if self.condition is not None and self.hit_at is None and self.condition():
                self.hit_at = time.perf_counter()
                self._event.set()

        self.app._display = display  # type: ignore[method-assign]

    def arm(self, condition: Callable[[], bool]) -> None:
        self.condition = condition
        self.hit_at = None
        self._event = asyncio.Event()

    async def wait(self, timeout: float = TIMEOUT) -> float:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"the screen did not show the rows within {timeout:.0f}s") from None
        assert self.hit_at is not None
        self.condition = None
        return self.hit_at


def send_key(app: App[Any], key: str) -> None:
    """Post one key press to the app, as `Pilot.press` does (without its waits)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original_key = REPLACED_KEYS.get(key, key)
    char: str | None
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(original_key))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)


async def until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait (polling) until `condition()` holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up waiting after {timeout:.0f}s")
        await asyncio.sleep(0.002)


@dataclass
class Running:
    """The app headless with its Contacts table, and the probe of its paints."""

    app: App[Any]
    pilot: Any
    probe: PaintProbe
    table: Any

    async def settle(self) -> None:
        await settle(self.pilot, self.table)

    async def focus_table(self) -> None:
        self.table.focus()
        await self.pilot.pause()

    async def time_key(self, key: str, done: Callable[[], bool]) -> float:
        """Seconds from pressing `key` to the first paint at which `done()` holds;
        then lets the app go quiet."""
        self.probe.arm(done)
        pressed = time.perf_counter()
        send_key(self.app, key)
        seconds = await self.probe.wait() - pressed
        await self.settle()
        return seconds


@asynccontextmanager
async def running_app(url: str) -> AsyncIterator[Running]:
    """The app on `url`, headless, with its first page on screen."""
    app = make_app(url)
    probe = PaintProbe(app)
    probe.install()
    probe.arm(lambda: window_ready(contacts_table(app)))
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await probe.wait()
        table = contacts_table(app)
        assert table is not None
        await settle(pilot, table)
        yield Running(app, pilot, probe, table)


async def settle(pilot: Any, table: Any) -> None:
    """Let the app go quiet: rows loaded, pending messages handled, a paint done."""
    await until(lambda: window_ready(table))
    await pilot.pause()
    await until(lambda: window_ready(table))


# -- the measurements -----------------------------------------------------------------


async def time_start(url: str) -> float:
    """Seconds from creating the app (which opens the database) to the first page painted."""
    started = time.perf_counter()
    app = make_app(url)
    probe = PaintProbe(app)
    probe.install()

    def first_page() -> bool:
        table = contacts_table(app)
        return window_ready(table) and bool(table.count)

    probe.arm(first_page)
    async with app.run_test(size=SCREEN_SIZE):
        painted = await probe.wait()
    return painted - started


async def time_search(url: str, terms: tuple[str, ...] = SEARCH_TERMS) -> list[float]:
    """Per term: seconds from the term's last keystroke to its rows painted.

    The rest of the term is already in the box (and its rows on screen), as
    when someone types; the search box's debounce is part of what is measured.
    """
    out: list[float] = []
    async with running_app(url) as run:
        search_box = run.app.screen.query_one("#search", Input)
        search_box.focus()
        await run.pilot.pause()
        for term in terms:
            prefix = term[:-1]
            search_box.value = prefix
            search_box.cursor_position = len(prefix)  # typing goes at the end
            await until(searched(run.table, prefix))
            await run.settle()
            out.append(await run.time_key(term[-1], searched(run.table, term)))
            if search_box.value != term:
                raise AssertionError(f"typed {term!r}, the search box holds {search_box.value!r}")
    return out


def searched(table: Any, term: str) -> Callable[[], bool]:
    """A condition: the table shows the rows of a search for `term`."""
    wanted = normalize_term(term)

    def condition() -> bool:
        return normalize_term(table.contact_query.search) == wanted and window_ready(table)

    return condition


async def _per_press(
    url: str, times: int, press: Callable[[Running], Awaitable[float | None]]
) -> list[float]:
    """`press(run)` `times` times, the table focused: the seconds each measured (None:
    nothing left to press for, the measurement ends there)."""
    out: list[float] = []
    async with running_app(url) as run:
        await run.focus_table()
        for _ in range(times):
            seconds = await press(run)
            if seconds is None:
                break
            out.append(seconds)
    return out


async def time_page_down(url: str, presses: int = 20) -> list[float]:
    """Per press of page down from the top: seconds until the next window's rows are painted."""

    async def page_down(run: Running) -> float | None:
        table = run.table
        before = round(table.scroll_y)
        if before >= round(table.max_scroll_y):
            return None  # at the bottom

        def moved() -> bool:
            return round(table.scroll_y) > before and window_ready(table)

        return await run.time_key("pagedown", moved)

    return await _per_press(url, presses, page_down)


async def time_end(url: str, repeats: int = 5) -> list[float]:
    """Per press of End from the top, with a cold page cache: seconds until the last rows show."""

    async def end(run: Running) -> float:
        table = run.table
        send_key(run.app, "home")
        await until(lambda: round(table.scroll_y) == 0 and table.cursor_index == 0)
        await run.settle()
        table.reload()  # forget the cached pages: End has to read its rows
        await run.settle()

        def at_end() -> bool:
            count = table.count or 0
            return (
                table.cursor_index == count - 1
                and round(table.scroll_y) == round(table.max_scroll_y)
                and window_ready(table)
            )

        return await run.time_key("end", at_end)

    return await _per_press(url, repeats, end)


async def memory_session(url: str) -> None:
    """What a user does in the first minute: the memory probe runs this (memprobe.py)."""
    async with running_app(url) as run:
        run.table.focus()
        for key in ("end", "home", *(["pagedown"] * 10), "end"):
            send_key(run.app, key)
            await run.pilot.pause()
            await run.settle()
        search_box = run.app.screen.query_one("#search", Input)
        search_box.focus()
        for term in ("ann", "gmail", "li", "smith", ""):
            search_box.value = term
            await until(searched(run.table, term))
            await run.settle()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
