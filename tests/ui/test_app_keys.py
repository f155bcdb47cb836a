"""App-wide keys: they never act behind an open dialog."""

from __future__ import annotations

from session_tui.data.db import Database
from session_tui.ui.modals.confirm import ConfirmModal
from tests.ui.contacts_helpers import (
    contacts_screen,
    make_test_app,
    numbered_people,
    seed,
    settle,
    wait_until,
)

SIZE = (120, 40)


async def test_screen_and_quit_keys_do_nothing_while_a_dialog_is_open(
    sqlite_db: Database,
) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("m", "p", "q")
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, ConfirmModal)
        assert app.current_mode == "contacts"
        await pilot.press("n")  # cancel: nothing deleted, keys work again
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        await pilot.press("m")
        await wait_until(pilot, lambda: app.current_mode == "memberships")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
