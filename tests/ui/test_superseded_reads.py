"""A newer search stops the read of the one it supersedes (`db.stop_reads`): the
superseded count does not go on scanning (a core and, on a second connection, a
page cache of its own at a million contacts), and its interruption is not an error
for the user."""

from __future__ import annotations

import threading
from typing import Any

from session_tui.data.db import Database
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from tests.test_stop_reads import LONG_READ
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    count_line_text,
    make_test_app,
    numbered_people,
    seed,
    settle,
    wait_until,
)

SIZE = (120, 40)


async def test_a_newer_search_interrupts_the_read_it_supersedes(
    sqlite_db: Database, monkeypatch: Any
) -> None:
    db = sqlite_db
    seed(db, [*numbered_people(40), Person("zoe@quux.org", "Zoë", "Quartz")])
    started = threading.Event()
    ended: list[str] = []
    fired: list[bool] = []
    count_and_page = ContactsRepository.count_and_page

    def slow_for_slow(self: ContactsRepository, query: ContactQuery, *args: Any) -> Any:
        if query.search != "slow":
            return count_and_page(self, query, *args)
        with self.db.read() as conn:
            # If the table failed to stop it, the test stops it itself after a while
            # (and fails), rather than wait minutes for it.
            raw = conn.connection.driver_connection
            assert raw is not None
            safety = threading.Timer(20, lambda: (fired.append(True), raw.interrupt()))
            safety.start()
            started.set()
            try:
                conn.exec_driver_sql(LONG_READ).scalar_one()
            except Exception as exc:
                ended.append(str(exc))
                raise
            finally:
                safety.cancel()
            ended.append("ran to the end")
        return count_and_page(self, query, *args)

    monkeypatch.setattr(ContactsRepository, "count_and_page", slow_for_slow)
    app = make_test_app(db)
    notices: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        table = screen.table
        await settle(pilot, table)
        monkeypatch.setattr(app, "notify", lambda message, **kw: notices.append(str(message)))
        await pilot.press("slash")
        screen.search_input.value = "slow"
        await wait_until(pilot, started.is_set)
        screen.search_input.value = "zoe"
        await wait_until(pilot, lambda: bool(ended), timeout=30)
        await wait_until(pilot, lambda: table.count == 1)
        await settle(pilot, table)
        assert count_line_text(screen) == "1 of 41 contacts"
    assert fired == [], "the newer search did not stop the superseded read"
    assert len(ended) == 1 and "interrupted" in ended[0]
    assert notices == []  # a stopped read is no "Database error"
