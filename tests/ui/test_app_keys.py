"""App-wide keys: they never act behind an open dialog."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from session_tui.data.db import Database
from session_tui.ui.modals.confirm import ConfirmModal
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


async def test_contact_keys_do_not_fire_from_the_filter_panel(sqlite_db: Database) -> None:
    from textual.widgets import Select

    from session_tui.ui.widgets.filter_panel import ConditionRow, panel_of

    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)
        await pilot.press("f")
        await wait_until(pilot, lambda: panel_of(screen) is not None)
        await pilot.press("ctrl+n")  # a condition row; focus on its field list
        panel = panel_of(screen)
        assert panel is not None
        await wait_until(pilot, lambda: isinstance(app.focused, Select))
        assert app.focused is panel.query_one(ConditionRow).query_one(".field")
        await pilot.press("d", "e")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert app.screen is screen  # no delete or edit dialog opened
        await pilot.press("escape")  # back to the table: d works there
        await wait_until(pilot, lambda: app.focused is screen.table)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))


async def test_the_footer_says_how_to_get_back_from_a_text_box(sqlite_db: Database) -> None:
    """In the search box or the filter panel, the footer offers the way back (and the
    panel's own keys), not an empty bar; on the table it does not offer `esc Table`."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    from session_tui.ui.widgets.filter_panel import panel_of

    seed(sqlite_db, numbered_people(3))
    app = make_test_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = contacts_screen(app)
        await settle(pilot, screen.table)

        def footer() -> dict[str, str]:
            keys = screen.query_one(Footer).query(FooterKey)
            return {key.key_display: key.description for key in keys}

        assert "esc" not in footer()
        await pilot.press("slash")
        await wait_until(pilot, lambda: footer().get("esc") == "Table")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "esc" not in footer() and app.focused is screen.table)
        await pilot.press("f")
        await wait_until(pilot, lambda: panel_of(screen) is not None)
        await wait_until(pilot, lambda: footer().get("esc") == "Table")
        assert footer().get("^n") == "New condition"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.focused is screen.table)


async def test_the_footer_is_rebuilt_only_when_its_keys_change(sqlite_db: Database) -> None:
    """A refresh of the bindings that changes nothing keeps the footer's keys (a start
    sends three: widgets/footer.py); a change of focus that changes them shows the new
    ones."""
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
