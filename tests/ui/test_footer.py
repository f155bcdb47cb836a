"""The footer is rebuilt when the keys it shows change, and only then (widgets/footer.py):
a start builds it once; a refresh of the bindings that changes nothing keeps its keys;
a change of focus that changes the keys shows the new ones."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from session_tui.data.db import Database
from session_tui.ui.widgets.footer import Footer
from tests.ui.contacts_helpers import (
    contacts_screen,
    make_test_app,
    numbered_people,
    seed,
    settle,
    wait_until,
)

SIZE = (120, 40)


async def test_the_footer_is_rebuilt_only_when_its_keys_change(sqlite_db: Database) -> None:
    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)
        footer = screen.query_one(Footer)
        await wait_until(pilot, lambda: bool(footer.query(FooterKey)))

        def shown() -> list[tuple[str, str]]:
            return [(key.key_display, key.description) for key in footer.query(FooterKey)]

        keys = list(footer.query(FooterKey))
        before = shown()
        assert ("e", "Edit") in before and ("?", "Help") in before
        assert "esc" not in dict(before)
        screen.refresh_bindings()  # nothing changed: the same keys stay
        await pilot.pause(0.05)
        await pilot.pause()
        assert list(footer.query(FooterKey)) == keys
        await pilot.press("slash")  # the search box: `esc` back to the table appears
        await wait_until(pilot, lambda: dict(shown()).get("esc") == "Table")
        await pilot.press("escape")
        await wait_until(pilot, lambda: shown() == before)
